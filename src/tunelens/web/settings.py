"""Settings that only the web server reads (env prefix ``TUNELENS_``, like the core settings).

Kept apart from :class:`tunelens.config.Settings` so the CLI and batch jobs do not carry knobs
they never use; both read the same environment and ``.env`` file.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class WebSettings(BaseSettings):
    """Limits and behaviour of ``tunelens serve``. Field ``x`` is env ``TUNELENS_X``."""

    model_config = SettingsConfigDict(
        env_prefix="TUNELENS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    max_batch_images: int = Field(
        default=8, ge=1, le=256, description="most images one batch request may carry"
    )
    engine_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="engine calls (decode + read + rank) running at once; others wait",
    )
    max_context_chars: int = Field(default=500, ge=1, description="longest context text")
    max_exclude_ids: int = Field(default=2000, ge=0, description="most ids in an exclude list")
    multipart_overhead_bytes: int = Field(
        default=MIB,
        ge=0,
        description="allowance for form fields and part headers on top of the image bytes",
    )
    max_json_bytes: int = Field(
        default=MIB, ge=1024, description="largest body accepted by non-upload routes"
    )
    stats_window: int = Field(
        default=1000, ge=10, description="latencies kept for the p50/p95 in /stats"
    )
    prediction_cache_size: int = Field(
        default=128, ge=1, description="recent answers kept for follow-ups (LLM commentary)"
    )
    log_level: str = "INFO"
    log_json: bool = True
