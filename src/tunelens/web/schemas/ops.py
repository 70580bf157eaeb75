"""Body of ``GET /ready``: each readiness check and whether it passes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReadyCheck(BaseModel):
    status: Literal["ok", "failing", "skipped"]
    code: str | None = Field(default=None, description="why it fails (a stable error code)")
    message: str | None = None


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, ReadyCheck]
