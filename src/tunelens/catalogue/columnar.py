"""Tracks as Apache Arrow columns, memory-mapped: a catalogue of millions that opens in
milliseconds.

A catalogue used to be a JSON Lines file parsed into one :class:`Track` per song at start-up:
a million songs took about 35 s and a few GB before the first answer. Here the tracks live in
uncompressed Arrow IPC files (one per *segment*: the build writes one, every ``catalog add``
another). Opening maps the files; numbers are read straight from the page cache (zero copy)
and a :class:`Track` object is made only for a row that reaches an answer
(:meth:`ColumnarCatalogue.__getitem__`). Parquet would have to be decoded into memory on
every open, which is what this replaces (docs/catalogue-format.md has the measurements).

Each segment's file also holds ``id_order``, the rows sorted by id, so a lookup by id is a
binary search over the mapped column instead of a dict of every id built at start-up.
Removed rows stay in place (row numbers are index labels) and are marked dead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tunelens.catalogue.models import Catalogue, Track, canonical_feature_matrix
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError, NotFound

__all__ = [
    "TRACK_SCHEMA",
    "ColumnarCatalogue",
    "content_hash_of_table",
    "table_from_tracks",
    "with_id_order",
]

_TEXT = ("id", "title", "artist", "album", "genre", "subgenre", "release_date", "source", "mood")

#: the columns of a segment file; ``features`` is (N, 13) float32 in FEATURES order, NaN =
#: unknown; ``links`` is a JSON object per row; ``id_order`` is added by :func:`with_id_order`
TRACK_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("artist", pa.string(), nullable=False),
        pa.field("album", pa.string()),
        pa.field("genre", pa.string()),
        pa.field("subgenre", pa.string()),
        pa.field("popularity", pa.float32()),
        pa.field("release_date", pa.string()),
        pa.field("playlists", pa.list_(pa.string())),
        pa.field("source", pa.string()),
        pa.field("links", pa.string()),
        pa.field("mood", pa.string()),
        pa.field("genres", pa.list_(pa.string())),
        pa.field("features", pa.list_(pa.float32(), len(FEATURES)), nullable=False),
    ]
)


def table_from_tracks(tracks: Iterable[Track]) -> pa.Table:
    """The tracks as one Arrow table in :data:`TRACK_SCHEMA` (row order kept)."""
    items = list(tracks)
    columns: dict[str, Any] = {name: [getattr(t, name) for t in items] for name in _TEXT}
    columns["popularity"] = [t.popularity for t in items]
    columns["playlists"] = [list(t.playlists) for t in items]
    columns["genres"] = [list(t.genres) for t in items]
    columns["links"] = [json.dumps(t.links, sort_keys=True) if t.links else None for t in items]
    matrix = np.full((len(items), len(FEATURES)), np.nan, dtype=np.float32)
    for i, track in enumerate(items):
        matrix[i] = track.feature_vector()
    columns["features"] = pa.FixedSizeListArray.from_arrays(
        pa.array(matrix.reshape(-1), pa.float32()), len(FEATURES)
    )
    arrays = [pa.array(columns[f.name], f.type) for f in TRACK_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=TRACK_SCHEMA)


def with_id_order(table: pa.Table) -> pa.Table:
    """``table`` plus ``id_order`` (its rows sorted by id: UTF-8 byte order = code point order)."""
    order = pc.sort_indices(table.column("id")).cast(pa.int64())
    return table.append_column(pa.field("id_order", pa.int64(), nullable=False), order)


def feature_block(table: pa.Table) -> NDArray[np.float32]:
    """(N, 13) float32 features of ``table``: a zero-copy view of a mapped single-chunk file."""
    column = table.column("features")
    parts = []
    for chunk in column.chunks:
        flat = chunk.flatten() if chunk.offset else chunk.values
        parts.append(np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32))
    if not parts:
        return np.empty((0, len(FEATURES)), dtype=np.float32)
    values = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return values.reshape(-1, len(FEATURES))


def content_hash_of_table(table: pa.Table) -> str:
    """sha256 over the ids and canonical float32 features of every row, vectorised.

    The same content gives the same hash however the table is chunked, and the same as
    :func:`~tunelens.catalogue.models.catalogue_hash_of` (``Catalogue.content_hash``) of the
    same tracks in memory.
    """
    ids = table.column("id").combine_chunks()
    lengths = pc.binary_length(ids).to_numpy(zero_copy_only=False).astype("<u4")
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[
        ids.offset : ids.offset + len(ids) + 1
    ]
    data = ids.buffers()[2]
    body = b"" if data is None or not len(ids) else data.to_pybytes()[offsets[0] : offsets[-1]]
    digest = hashlib.sha256()
    digest.update(b"tunelens-catalogue-v2\n" + ",".join(FEATURES).encode() + b"\n")
    digest.update(str(len(ids)).encode() + b"\n")
    digest.update(lengths.tobytes())
    digest.update(body)
    digest.update(canonical_feature_matrix(feature_block(table)).tobytes())
    return digest.hexdigest()


def _shortest(value: np.float32) -> float:
    """The shortest decimal that is this float32 (0.748, not 0.74800002574920654): a value
    read from a CSV comes back as written."""
    return float(str(np.float32(value)))


def _shown_features(block: NDArray[np.float32]) -> list[dict[str, float]]:
    """Each row's known features, each as :func:`_shortest` gives it, for a whole block at
    once: numpy's float32 → text cast writes every value as the scalar's own shortest repr."""
    values = np.asarray(block, dtype=np.float32).reshape(-1, len(FEATURES))
    texts = values.astype(str).tolist()
    known = (~np.isnan(values)).tolist()
    return [
        {name: float(text) for name, text, ok in zip(FEATURES, row, oks, strict=True) if ok}
        for row, oks in zip(texts, known, strict=True)
    ]


def _track_from_row(row: dict[str, Any], features: dict[str, float]) -> Track:
    popularity = row["popularity"]
    return Track(
        id=row["id"],
        title=row["title"],
        artist=row["artist"],
        album=row["album"],
        genre=row["genre"],
        subgenre=row["subgenre"],
        popularity=None if popularity is None else _shortest(np.float32(popularity)),
        release_date=row["release_date"],
        features=features,
        playlists=tuple(row["playlists"] or ()),
        source=row["source"] or "jsonl",
        links=json.loads(row["links"]) if row["links"] else {},
        mood=row["mood"],
        genres=tuple(row["genres"] or ()),
    )


def _row_array(rows: Iterable[int]) -> pa.Array:
    values = rows if isinstance(rows, np.ndarray) else np.fromiter(rows, dtype=np.int64)
    return pa.array(np.asarray(values, dtype=np.int64))


class _TrackView(Sequence[Track]):
    """``catalogue.tracks`` of a columnar catalogue: rows become tracks only when read."""

    def __init__(self, owner: ColumnarCatalogue) -> None:
        self._owner = owner

    def __len__(self) -> int:
        return len(self._owner)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._owner[i] for i in range(*index.indices(len(self)))]
        return self._owner[int(index)]


class ColumnarCatalogue(Catalogue):
    """A :class:`Catalogue` over mapped Arrow segments; rows of removed tracks are dead.

    ``len()`` counts every row (row numbers are index labels, stable until a compaction);
    :meth:`live_count` the songs that can be recommended; iteration yields live tracks.
    """

    __slots__ = ("_dead", "_features", "_hash_value", "_segments", "_starts", "_table")

    def __init__(
        self, segments: Sequence[pa.Table], dead: NDArray[np.bool_] | None, content_hash: str
    ) -> None:
        # Catalogue.__init__ would materialise every track: deliberately not called.
        self._segments = list(segments)
        self._starts = np.cumsum([0, *(s.num_rows for s in self._segments)])
        tables = [s.drop_columns(["id_order"]) for s in self._segments]
        self._table = pa.concat_tables(tables) if tables else TRACK_SCHEMA.empty_table()
        total = int(self._starts[-1])
        self._dead = dead if dead is not None else np.zeros(total, dtype=bool)
        if self._dead.shape != (total,):
            raise CatalogError("tombstones do not match the track rows", code="index_mismatch")
        self._features: NDArray[np.float32] | None = None
        self._hash_value = content_hash
        self._matrix = None
        self._hash = content_hash
        self.tracks = _TrackView(self)

    @property
    def table(self) -> pa.Table:
        """Every row's columns (dead rows included), zero-copy over the mapped segments."""
        return self._table

    @property
    def dead(self) -> NDArray[np.bool_]:
        """True for rows whose track was removed (read-only)."""
        view = self._dead.view()
        view.flags.writeable = False
        return view

    def live_count(self) -> int:
        return len(self) - int(self._dead.sum())

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __iter__(self) -> Iterator[Track]:
        for row in np.flatnonzero(~self._dead):
            yield self[int(row)]

    def __getitem__(self, index: int) -> Track:
        row = int(index)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"row {index} out of range")
        values = self._table.slice(row, 1).to_pylist()[0]
        return _track_from_row(values, _shown_features(self.feature_rows(np.array([row])))[0])

    def tracks_of(self, rows: Sequence[int] | NDArray[np.int64]) -> list[Track]:
        """The tracks of some rows, in order, read from the mapped columns in one go (an
        answer's ten songs: one take per column instead of one slice per song)."""
        picked = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(picked) and (int(picked.min()) < 0 or int(picked.max()) >= len(self)):
            raise IndexError(f"rows out of range 0..{len(self) - 1}")
        table = self._table.drop_columns(["features"]).take(pa.array(picked))
        features = _shown_features(self.feature_rows(picked))
        return [
            _track_from_row(values, shown)
            for values, shown in zip(table.to_pylist(), features, strict=True)
        ]

    def __contains__(self, track_id: object) -> bool:
        return isinstance(track_id, str) and self._find(track_id) is not None

    def _find(self, track_id: str) -> int | None:
        """The live row holding ``track_id`` (newest segment first), by binary search."""
        for seg in range(len(self._segments) - 1, -1, -1):
            segment = self._segments[seg]
            ids = segment.column("id")
            order = segment.column("id_order")
            lo, hi = 0, segment.num_rows
            while lo < hi:
                mid = (lo + hi) // 2
                if ids[order[mid].as_py()].as_py() < track_id:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < segment.num_rows:
                local = int(order[lo].as_py())
                row = int(self._starts[seg]) + local
                if ids[local].as_py() == track_id and not self._dead[row]:
                    return row
        return None

    def row_of(self, track_id: str) -> int | None:
        return self._find(track_id)

    def ids_of(self, rows: Iterable[int]) -> list[str]:
        taken = self._table.column("id").take(pa.array(list(rows), pa.int64()))
        return [str(v) for v in taken.to_pylist()]

    def ids(self) -> list[str]:
        return [str(v) for v in self._table.column("id").to_pylist()]

    def index_of(self, track_id: str) -> int:
        row = self._find(track_id)
        if row is None:
            raise NotFound(f"no track with id {track_id!r} in the catalogue")
        return row

    def by_id(self, track_id: str) -> Track:
        return self[self.index_of(track_id)]

    def get(self, track_id: str) -> Track | None:
        row = self._find(track_id)
        return None if row is None else self[row]

    def feature_matrix(self) -> NDArray[np.float32]:
        """(N, 13) features of every row: the mapped file itself when there is one segment."""
        if self._features is None:
            matrix = feature_block(self._table)
            matrix.flags.writeable = False
            self._features = matrix
        return self._features

    def feature_rows(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """(len(rows), 13) features of some rows, without touching the others."""
        if self._features is not None or len(self._segments) <= 1:
            return np.asarray(self.feature_matrix()[rows], dtype=np.float32)
        taken = self._table.column("features").take(pa.array(rows, pa.int64()))
        return feature_block(pa.table({"features": taken}))

    def content_hash(self) -> str:
        return self._hash_value

    def genres(self) -> dict[str, int]:
        live = self._table.column("genre").filter(pa.array(~self._dead))
        counts = pc.value_counts(pc.fill_null(live, "unknown")).to_pylist()
        pairs = sorted(((c["values"], c["counts"]) for c in counts), key=lambda p: -p[1])
        return dict(pairs)

    def codes(self, name: str) -> tuple[NDArray[np.int64], list[str | None]]:
        encoded = self._table.column(name).combine_chunks().dictionary_encode()
        values: list[str | None] = [*encoded.dictionary.to_pylist(), None]
        indices = pc.fill_null(encoded.indices, len(values) - 1)
        return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64), values

    def codes_of(self, name: str, rows: Iterable[int]) -> tuple[NDArray[np.intp], list[str | None]]:
        """Text field ``name`` of some rows as (codes, distinct values; None last), encoded
        by Arrow: no Python string per row, only one per distinct value."""
        taken = self._table.column(name).take(_row_array(rows)).combine_chunks()
        encoded = taken.dictionary_encode()
        values: list[str | None] = [*encoded.dictionary.to_pylist(), None]
        indices = pc.fill_null(encoded.indices, len(values) - 1)
        return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.intp), values

    def values_of(self, name: str, rows: Iterable[int]) -> list[str | None]:
        """Text field ``name`` of some rows, read from the mapped column (no other row)."""
        return self._table.column(name).take(_row_array(rows)).to_pylist()  # type: ignore[no-any-return]

    def popularity_of(self, rows: Iterable[int]) -> NDArray[np.float64]:
        """The popularity of some rows (float32 as stored, widened), NaN where unknown."""
        taken = self._table.column("popularity").take(_row_array(rows))
        return np.asarray(pc.fill_null(taken, np.nan).to_numpy(), dtype=np.float64)

    def popularity_values(self) -> NDArray[np.float64]:
        column = self._table.column("popularity").combine_chunks()
        return np.asarray(pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False), "f8")

    def column(self, name: str) -> pa.ChunkedArray:
        """One column of every row (dead rows included)."""
        return self._table.column(name)
