"""One source row → a validated :class:`SourceRecord`, or the reasons it cannot be one.

Every loader (CSV, JSON Lines) reads its rows through :func:`build_record`, so a value means
the same thing whatever file it came from: the missing-value tokens, Spotify's "unknown"
sentinels and the accepted ranges are listed in :mod:`tunelens.catalogue.loaders` and
implemented here, once. A reason names the column as the file spells it and shows the
offending value, so a user can fix the file without reading code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from tunelens.core.audio import FEATURES, MOOD_FEATURES

__all__ = [
    "ALIASES",
    "REQUIRED",
    "SourceRecord",
    "build_record",
    "parse_number",
    "show",
    "text_value",
]

#: reads one canonical field of the current row (None when the source has no such column)
FieldGetter = Callable[[str], object]
#: the column name a canonical field has in the source, for reasons
ColumnNamer = Callable[[str], str]

_UNIT_FEATURES = frozenset(
    {
        "danceability",
        "energy",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
    }
)
_MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
_TEXT_MISSING = frozenset({"", "NA"})
_MAX_REASON_VALUE = 40

#: Canonical field → accepted column names, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("track_id", "id", "spotify_id"),
    "title": ("track_name", "name", "title"),
    "artist": ("track_artist", "artist", "artists", "artist_name"),
    "album": ("track_album_name", "album", "album_name"),
    "popularity": ("track_popularity", "popularity"),
    "release_date": ("track_album_release_date", "release_date"),
    "playlist": ("playlist_name", "playlist"),
    "genre": ("playlist_genre", "genre"),
    "subgenre": ("playlist_subgenre", "subgenre"),
    "mood": ("mood",),
    **{name: (name,) for name in FEATURES if name != "duration_ms"},
    "duration_ms": ("duration_ms", "length"),
}
REQUIRED = ("id", "title", "artist")


@dataclass
class SourceRecord:
    """One valid source row before duplicates are merged into tracks."""

    line: int
    id: str
    title: str
    artist: str
    features: dict[str, float]
    album: str | None = None
    genre: str | None = None
    subgenre: str | None = None
    popularity: float | None = None
    release_date: str | None = None
    playlists: tuple[str, ...] = ()
    mood: str | None = None
    source: str = "spotify"
    links: dict[str, str] = field(default_factory=dict)
    genres: tuple[str, ...] = ()


def show(value: object) -> str:
    """A value as a reason quotes it, shortened so one bad cell cannot flood a report."""
    text = repr(value)
    return text if len(text) <= _MAX_REASON_VALUE else text[: _MAX_REASON_VALUE - 1] + "…'"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _MISSING_TOKENS
    return isinstance(value, float) and math.isnan(value)


def parse_number(column: str, value: object) -> float:
    """A finite float from a CSV string or JSON number; ValueError with a reason otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{column}={show(value)} is not a number")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise ValueError(f"{column}={show(value)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{column}={show(value)} is not a finite number")
    return number


def _whole(column: str, value: object, number: float) -> int:
    if number != int(number):
        raise ValueError(f"{column}={show(value)} is not a whole number")
    return int(number)


def _check_discrete(name: str, column: str, value: object, x: float) -> float | None:
    """key, mode and time_signature: whole numbers, Spotify's sentinels mean unknown."""
    shown = show(value)
    whole = _whole(column, value, x)
    if name == "key":
        if not -1 <= whole <= 11:
            raise ValueError(f"{column}={shown} is outside -1…11 (pitch class, -1 = unknown)")
        return None if whole == -1 else float(whole)
    if name == "mode":
        if whole not in (0, 1):
            raise ValueError(f"{column}={shown} must be 0 (minor) or 1 (major)")
        return float(whole)
    if not 0 <= whole <= 7:
        raise ValueError(f"{column}={shown} is outside 1…7 (0 = unknown)")
    return None if whole == 0 else float(whole)


def _check_feature(name: str, column: str, value: object) -> float | None:
    """Validate one feature; None means unknown. Raises ValueError with the reason."""
    if _is_missing(value):
        return None
    x = parse_number(column, value)
    shown = show(value)
    if name in _UNIT_FEATURES:
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"{column}={shown} is outside [0, 1]")
        return x
    if name in ("key", "mode", "time_signature"):
        return _check_discrete(name, column, value, x)
    if name == "loudness":
        if not -60.0 <= x <= 5.0:
            raise ValueError(f"{column}={shown} is outside -60…5 dB")
        return x
    if name == "tempo":
        if not 0.0 <= x <= 300.0:
            raise ValueError(f"{column}={shown} is outside 0…300 BPM")
        return None if x == 0.0 else x
    if name == "duration_ms":
        if x <= 0.0:
            raise ValueError(f"{column}={shown} must be positive")
        return x
    raise AssertionError(f"unhandled feature {name}")  # pragma: no cover


def text_value(value: object) -> str | None:
    """A stripped string, None when missing (empty or R's ``NA``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else format(value, "g")
    if not isinstance(value, str):
        return None
    text = value.strip()
    return None if text in _TEXT_MISSING else text


def _required_fields(
    get: FieldGetter, column_of: ColumnNamer, reasons: list[str]
) -> dict[str, str]:
    """id, title and artist as text; a reason per missing one (saying how it was missing)."""
    required: dict[str, str] = {}
    for name in REQUIRED:
        raw = get(name)
        text = text_value(raw)
        if text is not None:
            required[name] = text
            continue
        if raw is None:
            what = "missing"
        elif isinstance(raw, str) and not raw.strip():
            what = "empty"
        else:
            what = f"missing ({show(raw)})"
        reasons.append(f"{column_of(name)} is {what}")
    return required


def _known_features(
    get: FieldGetter, column_of: ColumnNamer, reasons: list[str]
) -> dict[str, float]:
    features: dict[str, float] = {}
    for name in FEATURES:
        try:
            value = _check_feature(name, column_of(name), get(name))
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        if value is not None:
            features[name] = value
    return features


def _popularity(get: FieldGetter, column_of: ColumnNamer, reasons: list[str]) -> float | None:
    raw = get("popularity")
    if _is_missing(raw):
        return None
    try:
        popularity = parse_number(column_of("popularity"), raw)
        if not 0.0 <= popularity <= 100.0:
            raise ValueError(f"{column_of('popularity')}={show(raw)} is outside 0…100")
    except ValueError as exc:
        reasons.append(str(exc))
        return None
    return popularity


def build_record(
    get: FieldGetter, column_of: ColumnNamer, line: int, *, source: str
) -> tuple[SourceRecord | None, list[str]]:
    """Validate one row given ``get(canonical_field)``; returns (record | None, reasons)."""
    reasons: list[str] = []
    required = _required_fields(get, column_of, reasons)
    features = _known_features(get, column_of, reasons)
    popularity = _popularity(get, column_of, reasons)
    if not reasons and not any(name in features for name in MOOD_FEATURES):
        reasons.append("no mood-bearing audio feature is known (" + ", ".join(MOOD_FEATURES) + ")")
    if reasons:
        return None, reasons
    genre = text_value(get("genre"))
    playlist = text_value(get("playlist"))
    record = SourceRecord(
        line=line,
        id=required["id"],
        title=required["title"],
        artist=required["artist"],
        features=features,
        album=text_value(get("album")),
        genre=genre.lower() if genre else None,
        subgenre=(text_value(get("subgenre")) or "").lower() or None,
        popularity=popularity,
        release_date=text_value(get("release_date")),
        playlists=(playlist,) if playlist else (),
        mood=text_value(get("mood")),
        source=source,
    )
    return record, []
