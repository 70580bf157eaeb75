"""Duplicate rows → one track: first by id, then by normalised title and artist.

The TidyTuesday data repeats a track once per playlist, and re-releases of one recording
carry different ids, so without merging the same song would fill a top 10. Merging by id
unions playlists and genres (the most frequent genre becomes the primary one) and keeps the
highest popularity; merging by title+artist keeps the most popular version and folds the
others' playlists and genres into it. The key is deliberately conservative (see
:func:`normalise_key`): a false merge hides a song, a missed one only repeats it.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tunelens.catalogue.models import Track, default_links
from tunelens.catalogue.rows import SourceRecord
from tunelens.core.audio import FEATURES

__all__ = ["MergedTracks", "merge_records", "normalise_key", "unique"]


@dataclass
class MergedTracks:
    """The tracks left after merging, and how many rows each rule folded away."""

    tracks: list[Track]
    merged_by_id: int
    merged_by_title_artist: int
    #: dropped id → id of the track it was merged into (title+artist merges only)
    merged_ids: dict[str, str] = field(default_factory=dict)


def normalise_key(text: str) -> str:
    """Title/artist key for duplicate detection: NFKC, casefold, drop punctuation and spaces.

    Accents and symbols are kept (``Canción`` ≠ ``Cancion``, ``A$AP`` ≠ ``ASAP``) and
    version suffixes are not stripped: a false merge hides a song, a missed one only repeats it.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def _most_common_first(values: Iterable[str]) -> list[str]:
    """Distinct values by frequency; ties keep first-seen order (Counter is stable)."""
    return [v for v, _ in Counter(values).most_common()]


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Distinct values in first-seen order."""
    return tuple(dict.fromkeys(values))


def _first_of(records: list[SourceRecord], attr: str) -> str | None:
    for record in records:
        value = getattr(record, attr)
        if value is not None:
            return str(value)
    return None


def _merge_same_id(records: list[SourceRecord]) -> Track:
    first = records[0]
    genres = _most_common_first(
        [r.genre for r in records if r.genre] + [g for r in records for g in r.genres]
    )
    primary = genres[0] if genres else None
    subgenres = _most_common_first(
        r.subgenre for r in records if r.subgenre and (r.genre == primary or r.genre is None)
    )
    features: dict[str, float] = {}
    for record in records:
        for name, value in record.features.items():
            features.setdefault(name, value)
    popularities = [r.popularity for r in records if r.popularity is not None]
    links = default_links(first.id, first.title, first.artist)
    for record in records:
        links.update(record.links)
    return Track(
        id=first.id,
        title=first.title,
        artist=first.artist,
        album=_first_of(records, "album"),
        genre=primary,
        subgenre=subgenres[0] if subgenres else None,
        popularity=max(popularities) if popularities else None,
        release_date=_first_of(records, "release_date"),
        features={n: features[n] for n in FEATURES if n in features},
        playlists=unique(p for r in records for p in r.playlists),
        source=first.source,
        links=links,
        mood=_first_of(records, "mood"),
        genres=tuple(genres),
    )


def _merge_same_song(tracks: list[Track]) -> Track:
    """Keep the most popular version; fold the others' playlists and genres into it."""
    winner = max(tracks, key=lambda t: -1.0 if t.popularity is None else t.popularity)
    others = [t for t in tracks if t is not winner]
    genres = unique([*winner.genres, *(g for t in others for g in t.genres)])
    playlists = unique([*winner.playlists, *(p for t in others for p in t.playlists)])
    return dataclasses.replace(
        winner,
        playlists=playlists,
        mood=winner.mood or next((t.mood for t in others if t.mood), None),
        genres=genres,
    )


def merge_records(records: list[SourceRecord]) -> MergedTracks:
    """Merge by id, then by normalised title+artist (each group kept at its first position)."""
    by_id: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_id.setdefault(record.id, []).append(record)
    id_tracks = [_merge_same_id(group) for group in by_id.values()]

    by_song: dict[tuple[str, str] | str, list[Track]] = {}
    for track in id_tracks:
        title, artist = normalise_key(track.title), normalise_key(track.artist)
        # An all-punctuation title or artist ("...", "¿?") has no key: never merge on it.
        key: tuple[str, str] | str = (title, artist) if title and artist else "id:" + track.id
        by_song.setdefault(key, []).append(track)
    tracks: list[Track] = []
    merged_ids: dict[str, str] = {}
    for group in by_song.values():
        if len(group) == 1:
            tracks.append(group[0])
            continue
        kept = _merge_same_song(group)
        tracks.append(kept)
        merged_ids.update({t.id: kept.id for t in group if t.id != kept.id})
    return MergedTracks(
        tracks=tracks,
        merged_by_id=len(records) - len(id_tracks),
        merged_by_title_artist=len(id_tracks) - len(tracks),
        merged_ids=merged_ids,
    )
