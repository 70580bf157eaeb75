"""The one error body every failing route answers with, and its OpenAPI declaration."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. `not_an_image`")
    message: str = Field(description="one sentence a person can act on")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """Every error. Routes outside `/api/` also carry DyLuMo's `status` and `message`."""

    error: ErrorBody
    status: Literal["error"] | None = Field(default=None, description="DyLuMo routes only")
    message: str | None = Field(default=None, description="DyLuMo routes only")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: each status documented with the one error shape."""
    return {status: {"model": ErrorResponse} for status in statuses}
