"""moto's S3 server on 127.0.0.1 for the shared-catalogue tests: real HTTP, real boto3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.storage.conftest import MotoServer, free_port

ACCESS = {"TUNELENS_S3_ACCESS_KEY_ID": "testing", "TUNELENS_S3_SECRET_ACCESS_KEY": "testing"}


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
    """The storage tests' moto server (:class:`tests.storage.conftest.MotoServer`), for as long
    as the caller iterates."""
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[s3])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")
    server = MotoServer(free_port())
    server.start()
    try:
        yield S3Server(endpoint=server.endpoint)
    finally:
        server.stop()
