"""What a client sends back for "more like this": the ``reading`` and ``target`` of an answer.

They return over the network, so they are checked like any input before the engine sees them:
a NaN probability made every score ``null`` (NaN poisons each sum it enters), an unknown
emotion or genre was silently ignored, and weights of 1e308 overflowed the index into zero
songs. Each is a 422 naming the object it is in — ``invalid_reading`` or ``invalid_target`` —
and the field, like an out-of-range ``tempo`` already was.

What is accepted is what an answer can contain: the emotion and genre names of the vocabulary
with probabilities in [0, 1], finite numbers everywhere, target features that are Spotify
features within a whole range of their documented span (a target no song can come near is a
mistake), and weights between 0 and :data:`MAX_WEIGHT`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from tunelens.core import vocab
from tunelens.core.audio import FEATURE_RANGES, FEATURES
from tunelens.core.errors import InvalidRequest
from tunelens.core.types import AudioTarget, Reading

#: the documented mapping weighs features 0.3–3; a client may stress one, not overflow them
MAX_WEIGHT = 100.0


def check_sent_back(reading: Reading | None, target: AudioTarget | None) -> None:
    """Refuse (422) a reading or target that no recommend answer could have contained."""
    if reading is not None:
        _check_reading(reading)
    if target is not None:
        _check_target(target)


def _refuse(code: str, field: str, problem: str) -> InvalidRequest:
    what = "reading" if code == "invalid_reading" else "target"
    return InvalidRequest(
        f"The {what} sent back is not one tunelens made: {field} {problem} (send the "
        f"`{what}` object of a recommend answer unchanged).",
        code=code,
        details={"field": field},
    )


def _non_finite(value: Any, path: str) -> Iterator[str]:
    """The paths of every NaN or infinite number inside ``value`` (a JSON-like structure)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{i}]")


def _check_probabilities(probs: Mapping[str, float], names: list[str], field: str) -> None:
    unknown = sorted(set(probs) - set(names))
    if unknown:
        raise _refuse("invalid_reading", field, f"names unknown terms {unknown}")
    for name, p in probs.items():
        if not 0.0 <= p <= 1.0:
            raise _refuse("invalid_reading", f"{field}.{name}", f"is {p!r}, not in [0, 1]")


def _check_reading(reading: Reading) -> None:
    bad = next(_non_finite(reading.model_dump(), "reading"), None)
    if bad is not None:
        raise _refuse("invalid_reading", bad, "is not a finite number")
    _check_probabilities(reading.emotions, vocab.emotions().names, "reading.emotions")
    _check_probabilities(reading.genres, vocab.genres().names, "reading.genres")


def _check_target(target: AudioTarget) -> None:
    bad = next(_non_finite(target.model_dump(), "target"), None)
    if bad is not None:
        raise _refuse("invalid_target", bad, "is not a finite number")
    for part in ("features", "weights"):
        unknown = sorted(set(getattr(target, part)) - set(FEATURES))
        if unknown:
            raise _refuse("invalid_target", f"target.{part}", f"names unknown features {unknown}")
    for name, value in target.features.items():
        low, high = FEATURE_RANGES.get(name, (-math.inf, math.inf))
        span = high - low
        if not low - span <= value <= high + span:
            raise _refuse(
                "invalid_target",
                f"target.features.{name}",
                f"is {value!r}, far outside {low}..{high}",
            )
    for name, weight in target.weights.items():
        if not 0.0 <= weight <= MAX_WEIGHT:
            raise _refuse(
                "invalid_target",
                f"target.weights.{name}",
                f"is {weight!r}, not in 0..{MAX_WEIGHT:g}",
            )
