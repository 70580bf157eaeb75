"""People's ratings of photos: the one reader of a ratings CSV, for measuring and for fitting.

``tunelens eval affect`` (:mod:`tunelens.quality.affect`) measures a reader against people's
ratings and ``tunelens train reader`` (:mod:`tunelens.training.affect_fit`) fits one on them;
both read the same file, so both read it here, with the same checks and one error code
(``invalid_ratings``) — a file one accepts the other does not refuse for another reason.

The layout is OASIS's: ``file``, ``category``, ``valence_mean``, ``arousal_mean`` (people's
mean ratings on a 1…7 scale) and ``theme`` (the fit needs it to cross-validate by theme;
measuring does not). Ratings are rescaled to the reading's scale, [-1, 1] with 4 ("neutral")
at 0, so a rating and a reading can be compared directly. The calibration data is research
data: it is read from where the operator keeps it and never copied into the package.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from tunelens.core.errors import InvalidRequest

#: the columns every ratings CSV needs (``theme`` is optional unless themes are required)
REQUIRED_COLUMNS = ("file", "category", "valence_mean", "arousal_mean")
#: the rating scale's ends; its middle (4, "neutral") becomes 0
SCALE_LOW, SCALE_HIGH = 1.0, 7.0
#: the one error code of a ratings file that cannot be used
ERROR_CODE = "invalid_ratings"


def rescale(rating: float) -> float:
    """A mean rating on the 1…7 scale as a circumplex coordinate in [-1, 1]."""
    middle = (SCALE_LOW + SCALE_HIGH) / 2
    return (rating - middle) / (SCALE_HIGH - middle)


@dataclass(frozen=True)
class RatedPhoto:
    """One photo, its category and theme ("" when the file has none), and people's mean
    valence and arousal on the reading's scale, [-1, 1]."""

    file: str
    category: str
    valence: float
    arousal: float
    theme: str = ""


def _number(row: dict[str, str], column: str, line: int) -> float:
    try:
        value = float(row[column])
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"ratings line {line}: {column} is not a number ({row.get(column)!r})",
            code=ERROR_CODE,
        ) from None
    if not math.isfinite(value) or not SCALE_LOW <= value <= SCALE_HIGH:
        raise InvalidRequest(
            f"ratings line {line}: {column} {value} is outside the 1–7 rating scale",
            code=ERROR_CODE,
        )
    return rescale(value)


def read_ratings(path: Path, *, min_themes: int = 0) -> list[RatedPhoto]:
    """The photos of a ratings CSV, in file order, or one clear error (code ``invalid_ratings``)
    for a file that cannot be used. ``min_themes`` > 0 requires a ``theme`` column with at
    least that many themes (a fit cross-validated by theme needs two)."""
    required = (*REQUIRED_COLUMNS, "theme") if min_themes > 0 else REQUIRED_COLUMNS
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidRequest(
                    f"{path} lacks the ratings columns {', '.join(missing)}", code=ERROR_CODE
                )
            photos = [
                RatedPhoto(
                    file=row["file"],
                    category=row["category"] or "unknown",
                    valence=_number(row, "valence_mean", line),
                    arousal=_number(row, "arousal_mean", line),
                    theme=row.get("theme") or "",
                )
                for line, row in enumerate(reader, start=2)
            ]
    except OSError as error:
        raise InvalidRequest(
            f"cannot read the ratings {path}: {error.strerror or error}", code=ERROR_CODE
        ) from None
    if not photos:
        raise InvalidRequest(f"{path} has no rated photos", code=ERROR_CODE)
    if min_themes > 0 and len({p.theme for p in photos if p.theme}) < min_themes:
        raise InvalidRequest(
            f"{path} needs photos of at least {min_themes} themes "
            "(the fit is cross-validated by theme)",
            code=ERROR_CODE,
        )
    return photos
