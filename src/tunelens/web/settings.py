"""Settings that only the web server reads (env prefix ``TUNELENS_``, like the core settings).

Kept apart from :class:`tunelens.core.settings.Settings` so the CLI and batch jobs do not carry knobs
they never use; both read the same environment and ``.env`` file.
"""

from __future__ import annotations

from pathlib import Path

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
    catalog_check_seconds: float = Field(
        default=2.0,
        ge=0.0,
        le=3600.0,
        description=(
            "how often (at most) a request makes the server check the catalogue's version and "
            "switch to a new one without a restart; 0 turns the check off"
        ),
    )
    micro_batch: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "most pictures one encoder run takes from overlapping requests (1: off; off by "
            "default because it measured no gain on 2 cores, see docs/performance.md)"
        ),
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
    drain_max_bytes: int = Field(
        default=128 * MIB,
        ge=0,
        description="a refused body (413/415) is read and thrown away up to this size before "
        "the answer, so a client that sends it all first (browsers, requests, urllib) reads "
        "the JSON error instead of a reset connection; larger ones are cut off",
    )
    drain_timeout_s: float = Field(
        default=30.0, gt=0, description="longest time spent reading a refused body"
    )
    stats_window: int = Field(
        default=1000, ge=10, description="latencies kept for the p50/p95 in /stats"
    )
    prediction_cache_size: int = Field(
        default=128, ge=1, description="recent answers kept for follow-ups (LLM commentary)"
    )
    prediction_cache_dir: Path | None = Field(
        default=None,
        description=(
            "folder shared by worker processes for those answers (serve --workers makes one)"
        ),
    )
    log_level: str = "INFO"
    log_json: bool = True

    # --- hardening (issue 9; see docs/security.md) ---------------------------------------
    max_queue: int = Field(
        default=32,
        ge=0,
        le=10_000,
        description="engine calls that may wait for a worker; beyond that: 503 `overloaded`",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="costly requests per client address per minute (0 turns the limit off)",
    )
    rate_limit_burst: int = Field(
        default=120, ge=1, description="requests a client may make at once before the rate applies"
    )
    rate_limit_clients: int = Field(
        default=10_000, ge=1, description="client addresses tracked at once (least recent dropped)"
    )
    cors_origins: str = Field(
        default="",
        description="comma-separated origins allowed to call the API from a browser; empty: no CORS",
    )
    storage_retry_s: float = Field(
        default=5.0,
        ge=0,
        description="seconds between attempts to reopen the database / reach the blob store "
        "after a failure (0: never retry)",
    )

    # --- running it for real (issue 11; see docs/deploy.md) -------------------------------
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For/-Proto and X-Request-ID are believed; empty (the default): none, so "
        "no local process can pick its own address for the rate limits; `*` trusts every peer",
    )
    ready_requires_database: bool = Field(
        default=True,
        description="/ready answers 503 while the database cannot be reached (set false to "
        "keep an instance in rotation that serves recommendations unrecorded)",
    )
    worker_start_timeout_s: int = Field(
        default=120,
        ge=5,
        description="seconds a new worker may take to load its models during a rolling "
        "reload (SIGHUP) before the reload is abandoned and the old worker kept",
    )
