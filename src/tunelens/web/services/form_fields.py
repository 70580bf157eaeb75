"""The recommend forms' text fields, parsed by one rule each: exclude lists, context text,
``top_k`` (DyLuMo's lenient rule and the versioned API's strict one) and checkbox flags.

Every field arrives as text (multipart forms carry no types), so a wrong value is refused here
with its own stable code rather than by FastAPI's generic validation.
"""

from __future__ import annotations

from tunelens.core.errors import InvalidRequest

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_exclude(values: list[str] | None, max_ids: int) -> list[str]:
    """Track ids from repeated fields and/or comma-separated lists, de-duplicated, in order."""
    out: dict[str, None] = {}
    for value in values or ():
        for raw in value.split(","):
            item = raw.strip()
            if item:
                out[item] = None
    if len(out) > max_ids:
        raise InvalidRequest(
            f"exclude lists at most {max_ids} track ids; got {len(out)}.",
            code="too_many_excluded",
            details={"limit": max_ids, "actual": len(out)},
        )
    return list(out)


def parse_context(value: str | None, max_chars: int) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > max_chars:
        raise InvalidRequest(
            f"The context text is {len(text)} characters long; the limit is {max_chars}.",
            code="context_too_long",
            details={"limit": max_chars, "actual": len(text)},
        )
    return text


def dylumo_top_k(value: str | None, default: int, maximum: int) -> int:
    """DyLuMo's rule: not an integer → the default; otherwise clamped to 1..maximum."""
    try:
        k = int(str(value).strip()) if value is not None else default
    except ValueError:
        k = default
    return max(1, min(k, maximum))


def strict_top_k(value: str | None) -> int | None:
    """The versioned API's rule: absent → default; not a whole number → ``invalid_top_k``."""
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidRequest(
            f"top_k must be a whole number of songs, got {value!r}.",
            code="invalid_top_k",
            details={"actual": value},
        ) from None


def parse_flag(value: str | None, name: str) -> bool:
    """A form checkbox: true/1/yes/on or false/0/no/off (absent = false)."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidRequest(
        f"{name} must be true or false, got {value!r}.",
        code="invalid_request",
        details={"field": name, "actual": value},
    )
