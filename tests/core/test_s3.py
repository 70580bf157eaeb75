"""One S3 client recipe for uploads and shared catalogues: the endpoint's settings reach
botocore, and a missing boto3 is one clear configuration error."""

from __future__ import annotations

import sys

import pytest

from tunelens.core.errors import ConfigError
from tunelens.core.s3 import S3Endpoint, s3_client


def test_an_endpoint_gets_path_style_plain_checksums_and_its_timeouts() -> None:
    pytest.importorskip("boto3")
    endpoint = S3Endpoint(
        endpoint_url="http://127.0.0.1:9",
        region="eu-west-1",
        access_key_id="k",
        secret_access_key="s",
        connect_timeout=1.5,
        read_timeout=7.0,
        max_attempts=4,
    )
    client = s3_client(endpoint, needed_for="A test")
    config = client.meta.config
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-west-1"
    assert config.connect_timeout == 1.5 and config.read_timeout == 7.0
    assert config.retries["total_max_attempts"] == 4
    assert config.s3["addressing_style"] == "path"
    assert config.request_checksum_calculation == "when_required"
    # AWS itself (no endpoint): boto3 picks the addressing style
    assert s3_client(S3Endpoint(region="eu-west-1"), needed_for="A test").meta.config.s3 is None


def test_without_boto3_the_error_names_what_needed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConfigError) as caught:
        s3_client(S3Endpoint(), needed_for="An s3:// catalogue")
    assert caught.value.code == "s3_missing"
    assert caught.value.message.startswith("An s3:// catalogue needs boto3")
