"""A local AWS-compatible server (moto's server mode) on 127.0.0.1 for the secrets tests.

Real HTTP on loopback, real boto3 on the client side: the same requests AWS would get.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SecretsServer:
    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "secretsmanager",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create(self, value: dict[str, Any] | str | bytes) -> str:
        """A new secret holding ``value`` (a dict is stored as JSON); returns its name."""
        name = f"tunelens/test-{uuid.uuid4().hex[:10]}"
        if isinstance(value, bytes):
            self.client().create_secret(Name=name, SecretBinary=value)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            self.client().create_secret(Name=name, SecretString=text)
        return name

    def env(self, secret_id: str) -> dict[str, str]:
        """The variables that point tunelens at ``secret_id`` on this server."""
        return {
            "TUNELENS_AWS_SECRET_ID": secret_id,
            "TUNELENS_AWS_REGION": REGION,
            "TUNELENS_AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }


def start_secrets_server() -> Iterator[SecretsServer]:
    pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[aws])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield SecretsServer(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="module")
def secrets_server() -> Iterator[SecretsServer]:
    yield from start_secrets_server()


AWS_ENV = (
    "TUNELENS_AWS_SECRET_ID",
    "TUNELENS_AWS_REGION",
    "TUNELENS_AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
)


def clean_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)


def point_at(monkeypatch: pytest.MonkeyPatch, server: SecretsServer, secret_id: str) -> None:
    clean_aws_env(monkeypatch)
    for name, value in server.env(secret_id).items():
        monkeypatch.setenv(name, value)
