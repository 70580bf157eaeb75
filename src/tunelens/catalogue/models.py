"""The catalogue's data model: one immutable :class:`Track` per song, and :class:`Catalogue`.

Everything downstream (index, recommender, explanations, API schemas) reads tracks through
this module, so the rules that give a track meaning live here and nowhere else:

* the 13 Spotify audio features and their order (:data:`FEATURES`) — the column order of every
  feature matrix and of the index files on disk;
* DyLuMo's emotion rule (:meth:`Track.dylumo_emotion`), kept bit-for-bit so tunelens can answer
  DyLuMo's API with the same vocabulary;
* the text a track is embedded by (:meth:`Track.text`), so image↔track similarity is computed
  on the same string at build time and at query time;
* the content hash (:meth:`Catalogue.content_hash`) an index records so that it can refuse to
  serve features that no longer match the tracks it was built from.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import numpy as np
from numpy.typing import NDArray

from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError, NotFound
from tunelens.core.types import TrackOut

#: Where each track came from; also decides which links make sense.
SOURCES: tuple[str, ...] = ("spotify", "audio", "jsonl")

_SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}


def is_spotify_id(track_id: str) -> bool:
    """Spotify ids are 22 base-62 characters; only those get an ``open.spotify.com`` link."""
    return bool(_SPOTIFY_ID.match(track_id))


def default_links(track_id: str, title: str, artist: str) -> dict[str, str]:
    """Links every track can have: Spotify when the id is one, and a YouTube search.

    A YouTube *search* (not a video id) is used because the catalogue has no video ids and a
    search for "title artist" finds the song for almost every real track.
    """
    links: dict[str, str] = {}
    if is_spotify_id(track_id):
        links["spotify"] = f"https://open.spotify.com/track/{track_id}"
    links["youtube_search"] = "https://www.youtube.com/results?search_query=" + quote_plus(
        f"{title} {artist}".strip()
    )
    return links


@dataclass(frozen=True, slots=True)
class Track:
    """One song with whatever metadata and audio features its source knew.

    ``features`` holds only known values (missing ones are absent, never NaN), so "unknown"
    is unambiguous; matrices turn absences into NaN. ``genre`` is the primary (most frequent)
    genre, lower-case; ``genres`` keeps every genre the song was filed under, primary first,
    because a song in both a rock and a pop playlist should match either vibe.
    """

    id: str
    title: str
    artist: str
    album: str | None = None
    genre: str | None = None
    subgenre: str | None = None
    popularity: float | None = None
    release_date: str | None = None
    features: dict[str, float] = field(default_factory=dict)
    playlists: tuple[str, ...] = ()
    source: str = "spotify"
    links: dict[str, str] = field(default_factory=dict)
    mood: str | None = None
    genres: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.features) - _FEATURE_INDEX.keys()
        if unknown:
            # A typo here would silently become "missing" in every matrix; fail loudly instead.
            raise ValueError(f"unknown audio feature(s) {sorted(unknown)} on track {self.id!r}")
        for name, value in self.features.items():
            if not math.isfinite(value):
                raise ValueError(f"feature {name} of track {self.id!r} is not finite: {value}")

    def feature(self, name: str) -> float | None:
        """The value of one feature, or None when the source did not know it."""
        return self.features.get(name)

    def feature_vector(self, names: Sequence[str] = FEATURES) -> NDArray[np.float32]:
        """The features in ``names`` order as float32, NaN where unknown."""
        return np.array([self.features.get(n, math.nan) for n in names], dtype=np.float32)

    def dylumo_emotion(self) -> str | None:
        """DyLuMo's rule from valence/energy (+ danceability or acousticness) to an emotion.

        Kept exactly as DyLuMo defines it so tunelens's DyLuMo-compatible API labels songs the
        same way; it needs only the features the branch actually reads, and returns None when
        one of those is unknown rather than guessing.
        """
        valence = self.features.get("valence")
        energy = self.features.get("energy")
        if valence is None or energy is None:
            return None
        if valence >= 0.6:
            if energy >= 0.75:
                return "excitement"
            if energy >= 0.5:
                danceability = self.features.get("danceability")
                if danceability is None:
                    return None
                return "amusement" if danceability >= 0.6 else "awe"
            return "contentment"
        if energy >= 0.7:
            return "anger"
        if energy >= 0.45:
            acousticness = self.features.get("acousticness")
            if acousticness is None:
                return None
            return "sadness" if acousticness >= 0.5 else "fear"
        return "sadness"

    def text(self) -> str:
        """``"title — artist, genre / subgenre"``: the string a text encoder embeds.

        Genre words are included because CLIP-like models know "rock" or "reggaeton" far
        better than most song titles, so they carry the vibe into the text embedding.
        """
        out = f"{self.title} — {self.artist}"
        if self.genre:
            out += f", {self.genre}"
            if self.subgenre:
                out += f" / {self.subgenre}"
        elif self.subgenre:
            out += f", {self.subgenre}"
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back unchanged (the index format)."""
        return {
            "id": self.id,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "genre": self.genre,
            "subgenre": self.subgenre,
            "popularity": self.popularity,
            "release_date": self.release_date,
            "features": {n: self.features[n] for n in FEATURES if n in self.features},
            "playlists": list(self.playlists),
            "source": self.source,
            "links": dict(self.links),
            "mood": self.mood,
            "genres": list(self.genres),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Track:
        """Rebuild a track written by :meth:`to_dict`. Trusts types: use loaders for input."""
        popularity = data.get("popularity")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            artist=str(data["artist"]),
            album=data.get("album"),
            genre=data.get("genre"),
            subgenre=data.get("subgenre"),
            popularity=None if popularity is None else float(popularity),
            release_date=data.get("release_date"),
            features={str(k): float(v) for k, v in dict(data.get("features") or {}).items()},
            playlists=tuple(str(p) for p in data.get("playlists") or ()),
            source=str(data.get("source") or "jsonl"),
            links={str(k): str(v) for k, v in dict(data.get("links") or {}).items()},
            mood=data.get("mood"),
            genres=tuple(str(g) for g in data.get("genres") or ()),
        )


def canonical_feature_matrix(matrix: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Little-endian float32 with one NaN bit pattern, so equal content hashes equal bytes."""
    out = np.ascontiguousarray(matrix, dtype="<f4").copy()
    out[np.isnan(out)] = np.float32(np.nan)
    return out


def catalogue_hash_of(ids: Sequence[str], matrix: NDArray[np.floating[Any]]) -> str:
    """The catalogue hash the store records (``catalogue_hash`` of ``meta.json``): sha256 over
    the feature names, the count, every id's UTF-8 length, the ids, and the canonical float32
    (N, 13) features. :func:`~tunelens.catalogue.columnar.content_hash_of_table` computes the
    same from Arrow buffers without a Python string per row; one hash names a catalogue
    whether it is held in memory, built, written or opened."""
    if matrix.shape != (len(ids), len(FEATURES)):
        raise ValueError(f"matrix shape {matrix.shape} does not match {len(ids)} ids")
    encoded = [track_id.encode("utf-8") for track_id in ids]
    digest = hashlib.sha256()
    digest.update(b"tunelens-catalogue-v2\n" + ",".join(FEATURES).encode() + b"\n")
    digest.update(str(len(ids)).encode() + b"\n")
    digest.update(np.array([len(e) for e in encoded], dtype="<u4").tobytes())
    digest.update(b"".join(encoded))
    digest.update(canonical_feature_matrix(matrix).tobytes())
    return digest.hexdigest()


def content_hash_of(ids: Sequence[str], matrix: NDArray[np.floating[Any]]) -> str:
    """The hash of the old JSON Lines format (2): sha256 over the feature names, then each id
    and its float32 feature row — kept only to verify such a catalogue before it is upgraded.

    Defined on (ids, matrix) rather than on Track objects so an index can verify both its
    ``tracks.jsonl`` and its ``features.npy`` against the same recorded value.
    """
    if matrix.shape != (len(ids), len(FEATURES)):
        raise ValueError(f"matrix shape {matrix.shape} does not match {len(ids)} ids")
    canon = canonical_feature_matrix(matrix)
    digest = hashlib.sha256()
    digest.update(b"tunelens-catalogue-v1\n")
    digest.update(",".join(FEATURES).encode() + b"\n")
    digest.update(str(len(ids)).encode() + b"\n")
    for track_id, row in zip(ids, canon, strict=True):
        encoded = track_id.encode("utf-8")
        digest.update(len(encoded).to_bytes(4, "little"))
        digest.update(encoded)
        digest.update(row.tobytes())
    return digest.hexdigest()


class Catalogue:
    """An ordered list of tracks with unique ids; a track's position is its index row."""

    __slots__ = ("_by_id", "_hash", "_matrix", "tracks")

    def __init__(self, tracks: Iterable[Track]) -> None:
        #: the tracks in row order (a list here; a lazy view in a columnar catalogue)
        self.tracks: Sequence[Track] = list(tracks)
        self._by_id: dict[str, int] = {}
        for i, track in enumerate(self.tracks):
            if track.id in self._by_id:
                # Positions are index rows: a duplicate id would make by_id ambiguous.
                raise CatalogError(
                    f"duplicate track id {track.id!r} in catalogue (rows {self._by_id[track.id]}"
                    f" and {i}); load sources through tunelens.catalogue.loaders to merge them",
                    code="catalog_invalid",
                )
            self._by_id[track.id] = i
        self._matrix: NDArray[np.float32] | None = None
        self._hash: str | None = None

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self.tracks)

    def __getitem__(self, index: int) -> Track:
        return self.tracks[index]

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._by_id

    def ids(self) -> list[str]:
        """Track ids in row order."""
        return [t.id for t in self.tracks]

    def index_of(self, track_id: str) -> int:
        """Row of a track id; raises :class:`NotFound` for unknown ids."""
        try:
            return self._by_id[track_id]
        except KeyError:
            raise NotFound(f"no track with id {track_id!r} in the catalogue") from None

    def by_id(self, track_id: str) -> Track:
        """The track with this id; raises :class:`NotFound` (HTTP 404) when absent."""
        return self.tracks[self.index_of(track_id)]

    def get(self, track_id: str) -> Track | None:
        """The track with this id, or None."""
        i = self._by_id.get(track_id)
        return None if i is None else self.tracks[i]

    def feature_matrix(self) -> NDArray[np.float32]:
        """``(N, 13)`` float32 in :data:`FEATURES` order, NaN where a feature is unknown.

        Computed once and returned read-only, because callers share it.
        """
        if self._matrix is None:
            matrix = np.full((len(self.tracks), len(FEATURES)), np.nan, dtype=np.float32)
            for i, track in enumerate(self.tracks):
                for name, value in track.features.items():
                    matrix[i, _FEATURE_INDEX[name]] = value
            matrix.flags.writeable = False
            self._matrix = matrix
        return self._matrix

    def content_hash(self) -> str:
        """The catalogue hash of ids + features (:func:`catalogue_hash_of`), the value the
        store records when these tracks are written; same on every run."""
        if self._hash is None:
            self._hash = catalogue_hash_of(self.ids(), self.feature_matrix())
        return self._hash

    def genres(self) -> dict[str, int]:
        """Primary-genre counts, most common first; tracks without a genre count as "unknown"."""
        counts = Counter(t.genre or "unknown" for t in self.tracks)
        return dict(counts.most_common())

    def codes(self, name: str) -> tuple[NDArray[np.int64], list[str | None]]:
        """Every row's value of text field ``name`` as (codes, distinct values): per-row facts
        are then derived once per distinct value (a columnar catalogue does it without
        making a track per row)."""
        seen: dict[str | None, int] = {}
        codes = np.array(
            [seen.setdefault(getattr(t, name), len(seen)) for t in self.tracks], dtype=np.int64
        )
        return codes, list(seen)

    def codes_of(self, name: str, rows: Iterable[int]) -> tuple[NDArray[np.intp], list[str | None]]:
        """Text field ``name`` of some rows as (codes, distinct values), like :meth:`codes`
        for those rows only."""
        seen: dict[str | None, int] = {}
        codes = [seen.setdefault(getattr(self.tracks[int(r)], name), len(seen)) for r in rows]
        return np.array(codes, dtype=np.intp), list(seen)

    def row_of(self, track_id: str) -> int | None:
        """The row of a live track id, or None."""
        return self._by_id.get(track_id)

    def ids_of(self, rows: Iterable[int]) -> list[str]:
        """The ids of some rows."""
        return [self.tracks[int(r)].id for r in rows]

    def popularity_values(self) -> NDArray[np.float64]:
        """Every row's popularity, NaN where unknown."""
        return np.array(
            [math.nan if t.popularity is None else t.popularity for t in self.tracks],
            dtype=np.float64,
        )

    def feature_rows(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """(len(rows), 13) features of some rows."""
        return np.asarray(self.feature_matrix()[rows], dtype=np.float32)

    def values_of(self, name: str, rows: Iterable[int]) -> list[str | None]:
        """Text field ``name`` of some rows (a columnar catalogue reads only those rows)."""
        return [getattr(self.tracks[int(r)], name) for r in rows]

    def popularity_of(self, rows: Iterable[int]) -> NDArray[np.float64]:
        """The popularity of some rows, NaN where unknown."""
        values = [self.tracks[int(r)].popularity for r in rows]
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

    def tracks_of(self, rows: Sequence[int] | NDArray[np.int64]) -> list[Track]:
        """The tracks of some rows, in order (a columnar catalogue reads them in one go)."""
        return [self.tracks[int(r)] for r in np.asarray(rows, dtype=np.int64).reshape(-1)]


#: the names :func:`dylumo_emotion_codes` codes: "" (unknown) first
DYLUMO_EMOTIONS: tuple[str, ...] = (
    "",
    "excitement",
    "amusement",
    "awe",
    "contentment",
    "anger",
    "sadness",
    "fear",
)


def dylumo_emotion_codes(matrix: NDArray[np.floating[Any]]) -> NDArray[np.intp]:
    """:meth:`Track.dylumo_emotion` of many (N, 13) feature rows at once, as positions in
    :data:`DYLUMO_EMOTIONS` (0 where unknown): a ranking reads one number per candidate and
    derives what it needs once per emotion."""
    m = np.asarray(matrix, dtype=np.float64)
    col = {name: m[:, _FEATURE_INDEX[name]] for name in ("valence", "energy", "danceability")}
    acoustic = m[:, _FEATURE_INDEX["acousticness"]]
    valence, energy, dance = col["valence"], col["energy"], col["danceability"]
    with np.errstate(invalid="ignore"):
        bright = valence >= 0.6
        dance_known = ~np.isnan(dance)
        acoustic_known = ~np.isnan(acoustic)
        conditions = [
            np.isnan(valence) | np.isnan(energy),
            bright & (energy >= 0.75),
            bright & (energy >= 0.5) & ~dance_known,
            bright & (energy >= 0.5) & (dance >= 0.6),
            bright & (energy >= 0.5),
            bright,
            energy >= 0.7,
            (energy >= 0.45) & ~acoustic_known,
            (energy >= 0.45) & (acoustic >= 0.5),
            energy >= 0.45,
        ]
    choices = ["", "excitement", "", "amusement", "awe", "contentment", "anger", "", "sadness"]
    code = {name: i for i, name in enumerate(DYLUMO_EMOTIONS)}
    picked = np.select(conditions, [code[c] for c in [*choices, "fear"]], default=code["sadness"])
    return np.asarray(picked, dtype=np.intp)


def dylumo_emotions(matrix: NDArray[np.floating[Any]]) -> list[str]:
    """:meth:`Track.dylumo_emotion` of many (N, 13) feature rows at once ("" where unknown)."""
    return [DYLUMO_EMOTIONS[c] for c in dylumo_emotion_codes(matrix).tolist()]


def track_out(track: Track) -> TrackOut:
    """A catalogue track as answers show it (features rounded for display)."""
    return TrackOut(
        id=track.id,
        title=track.title,
        artist=track.artist,
        album=track.album,
        genre=track.genre,
        subgenre=track.subgenre,
        popularity=track.popularity,
        features={k: round(v, 4) for k, v in track.features.items()},
        emotion=track.dylumo_emotion(),
        links=dict(track.links),
    )
