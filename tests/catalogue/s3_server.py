"""moto's S3 server on 127.0.0.1 for the shared-catalogue tests: real HTTP, real boto3."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ACCESS = {"TUNELENS_S3_ACCESS_KEY_ID": "testing", "TUNELENS_S3_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def env(self) -> dict[str, str]:
        """The settings that point tunelens's S3 client at this server."""
        return {"TUNELENS_S3_ENDPOINT_URL": self.endpoint, **ACCESS}


def start_s3_server() -> Iterator[S3Server]:
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[s3])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
