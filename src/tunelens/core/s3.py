"""How tunelens opens an S3-compatible client: one place for the endpoint, credentials,
timeouts and wire options that the uploads store and shared (``s3://``) catalogues both need.

Why here: uploads (``storage``) and catalogues (``catalogue``) sit side by side in the layers
and may not import each other, yet must talk to the same endpoint the same way — path-style
addressing for MinIO/moto/Ceph, plain S3 checksums (some S3-compatible stores reject the newer
ones), and short timeouts so a dead endpoint becomes a clear error within seconds instead of a
hung request. boto3 is the optional ``s3`` extra: it is imported when a client is made, never
when this module is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunelens.core.errors import ConfigError

__all__ = ["S3Endpoint", "s3_client"]


@dataclass(frozen=True)
class S3Endpoint:
    """Where and how to reach S3: ``endpoint_url`` None is AWS itself; keys None leave the
    credentials to boto3's own chain (environment, profile, instance role)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    max_attempts: int = 2


def s3_client(endpoint: S3Endpoint, *, needed_for: str) -> Any:
    """A boto3 S3 client for ``endpoint``; ``needed_for`` names what needs it in the error a
    missing boto3 gives (e.g. "An s3:// catalogue")."""
    try:
        import boto3  # noqa: PLC0415 - the optional s3 extra, needed only when S3 is used
        from botocore.config import Config  # noqa: PLC0415 - comes with boto3
    except ModuleNotFoundError:
        raise ConfigError(
            f"{needed_for} needs boto3: pip install 'tunelens[s3]'.", code="s3_missing"
        ) from None
    config = Config(
        connect_timeout=endpoint.connect_timeout,
        read_timeout=endpoint.read_timeout,
        retries={"total_max_attempts": endpoint.max_attempts, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"} if endpoint.endpoint_url else None,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.endpoint_url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key_id,
        aws_secret_access_key=endpoint.secret_access_key,
        config=config,
    )
