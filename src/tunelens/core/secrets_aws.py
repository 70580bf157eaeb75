"""Settings from AWS Secrets Manager: one JSON secret whose keys are tunelens settings.

Image2Genre kept its keys in a secrets manager; tunelens does the same when
``TUNELENS_AWS_SECRET_ID`` is set (read from the process environment only, like
``TUNELENS_SECRETS_DIR``: it must be known before any other setting is read). The secret's
``SecretString`` is a JSON object such as::

    {"admin_token": "…", "llm_api_key": "…", "database_url": "postgresql://…"}

Keys are setting names, case-insensitive, with or without the ``TUNELENS_`` prefix. The
environment and ``.env`` still win over the secret (so an operator can override one value
while debugging); the secret wins over secret files and defaults.

Everything that can go wrong becomes a :class:`~tunelens.core.errors.ConfigError` with a stable
code that names the setting or the secret id, never a value: these errors are printed at
start-up and may end up in logs that many people read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from tunelens.core.errors import ConfigError

ENV_SECRET_ID = "TUNELENS_AWS_SECRET_ID"
ENV_REGION = "TUNELENS_AWS_REGION"
ENV_ENDPOINT = "TUNELENS_AWS_ENDPOINT_URL"
PREFIX = "tunelens_"

#: AWS error codes that mean "these credentials may not read this secret"
_DENIED = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
    }
)


@dataclass(frozen=True)
class AwsSecretRef:
    """Where the secret lives: its id (name or ARN), region and (for tests) endpoint."""

    secret_id: str
    region: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AwsSecretRef | None:
        env = os.environ if environ is None else environ
        secret_id = env.get(ENV_SECRET_ID, "").strip()
        if not secret_id:
            return None
        return cls(
            secret_id=secret_id,
            region=env.get(ENV_REGION, "").strip() or None,
            endpoint_url=env.get(ENV_ENDPOINT, "").strip() or None,
        )

    def where(self) -> str:
        region = f" in region {self.region}" if self.region else ""
        endpoint = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"AWS Secrets Manager secret {self.secret_id!r} ({ENV_SECRET_ID}){region}{endpoint}"


def _error(code: str, message: str, ref: AwsSecretRef, **details: Any) -> ConfigError:
    return ConfigError(
        message,
        code=code,
        details={"setting": ENV_SECRET_ID, "secret_id": ref.secret_id, **details},
    )


def fetch_secret_string(ref: AwsSecretRef) -> str:
    """The secret's ``SecretString``; every failure is a ConfigError naming the secret id."""
    try:
        import boto3  # noqa: PLC0415 - optional extra tunelens[aws], loaded only when configured
        from botocore import exceptions as aws_errors  # noqa: PLC0415 - comes with boto3
        from botocore.config import Config  # noqa: PLC0415 - comes with boto3
    except ImportError:
        raise _error(
            "aws_secrets_unavailable",
            f"{ENV_SECRET_ID} is set but boto3 is not installed: pip install 'tunelens[aws]'.",
            AwsSecretRef(os.environ.get(ENV_SECRET_ID, "")),
        ) from None

    # short timeouts: an unreachable endpoint must fail start-up in seconds, not minutes
    config = Config(
        connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
    )
    try:
        # a session of its own: boto3's default session caches credentials process-wide
        client = boto3.session.Session().client(
            "secretsmanager",
            region_name=ref.region,
            endpoint_url=ref.endpoint_url,
            config=config,
        )
        response = client.get_secret_value(SecretId=ref.secret_id)
    except (aws_errors.ClientError, aws_errors.BotoCoreError) as exc:
        raise _aws_failure(exc, ref, aws_errors) from None
    return _secret_string(response, ref)


def _aws_failure(exc: Exception, ref: AwsSecretRef, aws_errors: Any) -> ConfigError:
    """The ConfigError for one botocore failure (``aws_errors`` is ``botocore.exceptions``,
    passed in because botocore is only importable with the optional extra)."""
    if isinstance(exc, aws_errors.NoRegionError):
        return _error(
            "aws_region_missing",
            f"Cannot read the {ref.where()}: no AWS region is configured; set {ENV_REGION} "
            "(or AWS_REGION).",
            ref,
        )
    if isinstance(exc, aws_errors.NoCredentialsError | aws_errors.PartialCredentialsError):
        return _error(
            "aws_credentials_missing",
            f"Cannot read the {ref.where()}: no AWS credentials were found (environment, "
            "shared config or instance role).",
            ref,
        )
    if isinstance(exc, aws_errors.EndpointConnectionError):
        return _error(
            "aws_secrets_unreachable",
            f"Cannot read the {ref.where()}: the Secrets Manager endpoint did not answer.",
            ref,
        )
    if isinstance(exc, aws_errors.ClientError):
        return _client_error(str(exc.response.get("Error", {}).get("Code", "Unknown")), ref)
    # timeouts, proxy errors, bad endpoint URLs, ...
    return _error(
        "aws_secrets_unreachable",
        f"Cannot read the {ref.where()} ({type(exc).__name__}).",
        ref,
    )


def _client_error(aws_code: str, ref: AwsSecretRef) -> ConfigError:
    """The ConfigError for an error answer of Secrets Manager itself, by its AWS code."""
    if aws_code == "ResourceNotFoundException":
        return _error(
            "aws_secret_not_found",
            f"The {ref.where()} does not exist (or has no current version).",
            ref,
            aws_code=aws_code,
        )
    if aws_code in _DENIED:
        return _error(
            "aws_secret_denied",
            f"The {ref.where()} may not be read with these AWS credentials ({aws_code}).",
            ref,
            aws_code=aws_code,
        )
    return _error(
        "aws_secret_unreadable",
        f"The {ref.where()} could not be read ({aws_code}).",
        ref,
        aws_code=aws_code,
    )


def _secret_string(response: Any, ref: AwsSecretRef) -> str:
    """The text of a ``GetSecretValue`` answer; a binary secret is refused."""
    secret = response.get("SecretString")
    if not isinstance(secret, str):
        raise _error(
            "aws_secret_not_json",
            f"The {ref.where()} holds binary data; tunelens needs a JSON object of settings in "
            "its SecretString.",
            ref,
        )
    return secret


def parse_secret(text: str, ref: AwsSecretRef, fields: dict[str, FieldInfo]) -> dict[str, Any]:
    """``{field name: raw value}`` from the secret's JSON; errors name keys, never values."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc's message holds no content, but its .doc would: report the position only
        raise _error(
            "aws_secret_not_json",
            f"The {ref.where()} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
            'it must be an object such as {"admin_token": "…"}.',
            ref,
        ) from None
    if not isinstance(data, dict):
        raise _error(
            "aws_secret_not_json",
            f"The {ref.where()} must be a JSON object of settings, not a {type(data).__name__}.",
            ref,
        )
    by_name = {name.lower(): name for name in fields}
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in data.items():
        name = by_name.get(key.lower().removeprefix(PREFIX))
        if name is None:
            unknown.append(key)
            continue
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise _error(
                "aws_secret_invalid_value",
                f"Setting {key!r} in the {ref.where()} must be a string, number or boolean.",
                ref,
                key=key,
            )
        if value is not None:
            values[name] = value
    if unknown:
        # a misspelt key would otherwise be ignored silently and its default used
        raise _error(
            "aws_secret_unknown_setting",
            f"The {ref.where()} has keys that are not tunelens settings: "
            f"{', '.join(sorted(unknown))}.",
            ref,
            keys=sorted(unknown),
        )
    return values


class AwsSecretsManagerSource(PydanticBaseSettingsSource):
    """A pydantic-settings source that reads one JSON secret once per ``Settings()``."""

    def __init__(self, settings_cls: type[BaseSettings], ref: AwsSecretRef) -> None:
        super().__init__(settings_cls)
        self.ref = ref

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # unused: __call__ reads the whole secret at once
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        text = fetch_secret_string(self.ref)
        return parse_secret(text, self.ref, dict(self.settings_cls.model_fields))

    def __repr__(self) -> str:
        return f"AwsSecretsManagerSource({self.ref.secret_id!r})"
