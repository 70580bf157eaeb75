"""Body of ``GET /ready``: each readiness check and whether it passes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReadyCheck(BaseModel):
    status: Literal["ok", "failing", "skipped"]
    code: str | None = Field(default=None, description="why it fails (a stable error code)")
    message: str | None = None
    detail: str | None = Field(
        default=None,
        description="what was checked, e.g. the catalogue's version, hash and size, so an "
        "operator can see that every server behind the balancer serves the same one",
    )


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, ReadyCheck]
