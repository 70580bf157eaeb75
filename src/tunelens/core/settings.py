"""Settings from the environment (prefix ``TUNELENS_``), a ``.env`` file, and secret files.

One object, read once per process, so the CLI, the server and the tests agree on every limit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from tunelens.core.errors import ConfigError
from tunelens.core.secrets_aws import AwsSecretRef, AwsSecretsManagerSource

EncoderChoice = Literal["auto", "clip", "colour"]
BlobBackend = Literal["local", "s3"]
#: an ONNX model's number format: full, dynamic-int8 (quantised weights), half precision, or
#: int8 quantised on this machine from the fp32 graph (tunelens.modelhub.derive)
Precision = Literal["fp32", "int8", "fp16", "int8-local"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tunelens", appauthor=False))


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("tunelens", appauthor=False))


class Settings(BaseSettings):
    """Every knob tunelens has. Field names map to ``TUNELENS_<NAME>`` env variables."""

    model_config = SettingsConfigDict(
        env_prefix="TUNELENS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    catalog_dir: Path | None = None
    #: the catalogue: a directory, or ``s3://bucket/prefix`` that many servers share (each
    #: keeps a verified copy under ``<cache_dir>/catalogs``); wins over ``catalog_dir``
    catalog: str | None = None

    encoder: EncoderChoice = "auto"
    # --- which CLIP model (tunelens.modelhub.registry; `tunelens models list`). Unset means
    # the registry's default model at its default precision.
    #: a registry name, e.g. ``mobileclip-s1``
    model: str | None = None
    #: fp32, int8, fp16 or int8-local; unset: the registry default's precision (fp32 for
    #: other models)
    model_precision: Precision | None = None
    #: a hub repository instead of a registry name (a registered repo gets its registry
    #: entry; any other is fetched in the transformers.js layout)
    model_repo: str | None = None
    #: a branch, tag or commit; unset: the registry entry's pinned revision (else ``main``)
    model_revision: str | None = None
    #: a model folder on disk (either layout), used as is: no registry, no download
    model_dir: Path | None = None
    #: the older name of ``model_precision`` (fp32 or int8), still read
    model_variant: Literal["fp32", "int8"] | None = None
    allow_download: bool = True
    onnx_threads: int = 0

    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    min_image_side: int = 16

    top_k: int = 10
    max_top_k: int = 50
    max_per_artist: int = 2

    # --- explanations: optional LLM commentary (any OpenAI-compatible chat-completions API)
    #: e.g. ``https://api.openai.com/v1`` or a local server's ``http://127.0.0.1:8080/v1``
    llm_base_url: str | None = None
    llm_model: str | None = None
    #: the API key (never logged); or a file holding only the key (``llm_api_key_file``)
    llm_api_key: SecretStr | None = None
    llm_api_key_file: Path | None = None
    #: seconds per attempt (connect + answer); one retry after a timeout, 429 or 5xx
    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_tokens: int = Field(default=220, ge=16)
    #: face expressions blended into readings when the ``faces`` extra is installed
    faces: bool = True
    #: an operator's playlists TOML (regions → genre/mood → playlists); default: the built-in one
    playlists_file: Path | None = None

    # --- data loop: predictions/feedback in SQL, consented uploads in a blob store
    #: SQLAlchemy URL; empty means ``sqlite:///<data_dir>/tunelens.db`` (filled in on load)
    database_url: str = ""
    blob_backend: BlobBackend = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "tunelens-uploads"
    s3_prefix: str = "uploads/"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    #: dislikes of one artist's songs (by one listener) before that artist leaves their results
    dislike_artist_threshold: int = Field(default=2, ge=1)
    #: seconds between the server's deliveries of the uploads outbox (0 turns the task off)
    outbox_flush_interval_s: float = Field(default=60.0, ge=0)
    #: the admin page and /api/v1/admin/* accept this token (Bearer header or login form);
    #: unset means the admin pages are off
    admin_token: SecretStr | None = None
    #: signs listeners' anonymous client ids (at least 32 characters); unset: one is generated
    #: once and kept in ``<data_dir>/client_identity.key`` (see docs/security.md)
    client_secret: SecretStr | None = None
    #: longest side of a kept (consented) picture; larger ones are scaled down as they are
    #: decoded, so keeping one costs bounded memory and the training readers lose nothing
    upload_max_side: int = Field(default=2048, ge=256, le=16384)

    # --- trained heads (``tunelens train``): a version name pins one, ``none`` turns them off;
    # unset means the newest version whose report beat the majority-class baseline
    head_emotion: str | None = None
    head_genre: str | None = None
    head_features: str | None = None

    # --- learned audio-feature head (``tunelens train features``) and retraining by itself
    #: the active feature head's share of the target (0: the documented mapping only, 1: head)
    feature_head_blend: float = Field(default=0.5, ge=0, le=1)
    #: seconds between the server's retrain checks (0, the default, turns the job off)
    retrain_interval_s: float = Field(default=0.0, ge=0)
    #: new feedback pairs (likes on kept pictures) since the last feature head before retraining
    retrain_threshold: int = Field(default=50, ge=1)
    retrain_head: Literal["ridge", "transformer"] = "ridge"
    #: a curated pairs CSV every retrain also uses (besides the feedback pairs)
    retrain_pairs: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """env > ``.env`` > AWS Secrets Manager (``TUNELENS_AWS_SECRET_ID``) > secret files."""
        ref = AwsSecretRef.from_env()
        if ref is None:
            return init_settings, env_settings, dotenv_settings, file_secret_settings
        aws = AwsSecretsManagerSource(settings_cls, ref)
        return init_settings, env_settings, dotenv_settings, aws, file_secret_settings

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """As pydantic's, with the database URL's password masked (it is a plain string, not
        a SecretStr, so an f-string or log line of the settings would otherwise show it)."""
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                yield name, _hide_password(value)
            else:
                yield name, value

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'tunelens.db'}"
        return self

    @property
    def heads_dir(self) -> Path:
        """Trained heads: ``<heads_dir>/<encoder model_id>/<task>/<version>/``."""
        return self.data_dir / "heads"

    @property
    def reranking_dir(self) -> Path:
        """Re-ranking adjustments learned from feedback (``tunelens train --from-feedback``)."""
        return self.data_dir / "reranking"

    def head_pins(self) -> dict[str, str | None]:
        return {"emotion": self.head_emotion, "genre": self.head_genre}

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def default_catalog_dir(self) -> Path:
        return self.catalog_dir or (self.data_dir / "catalog")

    @property
    def catalog_location(self) -> str:
        """``catalog`` (a directory or an ``s3://`` URL), else the catalogue directory."""
        return self.catalog or str(self.default_catalog_dir)


def _hide_password(url: str) -> str:
    try:
        # SQLAlchemy takes ~0.2 s to import; every process reads settings, few need a database
        from sqlalchemy.engine import make_url  # noqa: PLC0415 - see above

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing rather than a secret
        return "<unparseable database URL>"


def secrets_dir() -> Path | None:
    """Directory of secret files (Docker/Kubernetes style), from ``TUNELENS_SECRETS_DIR``.

    Each file is named after the variable it replaces (``tunelens_llm_api_key``) and holds
    only the value, so keys never have to sit in the environment or in ``.env``.
    """
    configured = os.environ.get("TUNELENS_SECRETS_DIR")
    if configured:
        return Path(configured)
    default = Path("/run/secrets")
    return default if default.is_dir() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    directory = secrets_dir()
    if directory is not None and not directory.is_dir():
        raise ConfigError(
            f"TUNELENS_SECRETS_DIR points at {directory}, which is not a directory",
            code="secrets_dir_missing",
        )
    try:
        return Settings(_secrets_dir=directory)
    except (ValidationError, SettingsError) as exc:
        raise settings_error(exc) from None


def settings_error(exc: ValidationError | SettingsError) -> Exception:
    """A ConfigError naming each bad setting and why, never the value it was given.

    pydantic's own message quotes the input (``input_value='…'``), and that input may be a
    key read from a secret file or a secrets manager.
    """
    if isinstance(exc, SettingsError):  # pydantic-settings names the field, not the value
        return ConfigError(f"Invalid settings: {exc}", code="invalid_setting")
    problems = []
    names = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = "_".join(str(part) for part in error["loc"]).upper()
        name = f"TUNELENS_{loc}" if loc else "settings"
        names.append(name)
        problems.append(f"{name}: {error['msg']}")
    return ConfigError(
        "Invalid settings: " + "; ".join(problems),
        code="invalid_setting",
        details={"settings": names},
    )
