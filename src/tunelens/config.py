"""Settings from the environment (prefix ``TUNELENS_``), a ``.env`` file, and secret files.

One object, read once per process, so the CLI, the server and the tests agree on every limit.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EncoderChoice = Literal["auto", "clip", "colour"]

DEFAULT_MODEL_REPO = "tunelens/clip-vit-base-patch32-onnx"


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

    encoder: EncoderChoice = "auto"
    model_repo: str = DEFAULT_MODEL_REPO
    model_revision: str = "main"
    model_dir: Path | None = None
    model_variant: Literal["fp32", "int8"] = "fp32"
    allow_download: bool = True
    onnx_threads: int = 0

    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    min_image_side: int = 16

    top_k: int = 10
    max_top_k: int = 50
    max_per_artist: int = 2

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def default_catalog_dir(self) -> Path:
        return self.catalog_dir or (self.data_dir / "catalog")


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
        from tunelens.errors import ConfigError

        raise ConfigError(
            f"TUNELENS_SECRETS_DIR points at {directory}, which is not a directory",
            code="secrets_dir_missing",
        )
    return Settings(_secrets_dir=directory)
