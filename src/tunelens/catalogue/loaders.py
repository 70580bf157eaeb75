"""Turn catalogue sources (Spotify-style CSV, JSON Lines, a folder of audio files) into tracks.

Sources are user input, so a bad row never stops a load: each one becomes a
:class:`~tunelens.catalogue.load_report.RowProblem` with its physical line number (the header is line 1, and a quoted field
spanning lines counts every line) and a reason precise enough to fix the file, and the row is
skipped. Only a file that is not a catalogue at all (missing, empty, binary, not UTF-8, no
id/title/artist columns) raises :class:`~tunelens.core.errors.CatalogError`.

Rules shared by every loader:

* Missing values — an empty cell, or R's ``NA`` (the TidyTuesday CSV writes missing titles
  as ``NA``), is "unknown". A missing feature is fine; a row with *no* mood-bearing feature
  is a problem because it could never be matched. Spotify's sentinel values mean unknown
  too: ``key = -1``, ``tempo = 0`` and ``time_signature = 0``.
* Ranges — danceability, energy, speechiness, acousticness, instrumentalness, liveness and
  valence in [0, 1]; key an integer in −1…11; mode 0 or 1; loudness −60…5 dB; tempo in
  (0, 300] BPM; duration_ms > 0; time_signature an integer in 1…7; popularity 0…100.
* Duplicates — rows sharing an id become one track (playlists and genres merged, the most
  frequent genre primary, the highest popularity); then tracks whose normalised title and
  artist agree (:func:`~tunelens.catalogue.merge.normalise_key`: NFKC, casefold, punctuation and spaces removed —
  deliberately conservative, so "Song - Remastered" stays separate) are merged into the
  most popular one. The TidyTuesday data repeats a track once per playlist, and re-releases
  of one recording carry different ids, so without this the same song would fill a top 10.

This module picks the loader (:func:`load_source`); the formats live in :mod:`.csv_loader`,
:mod:`.jsonl_loader` and :mod:`.audio_loader`, the per-row rules in :mod:`.rows`, the merging
in :mod:`.merge` and the report in :mod:`.load_report`.
"""

from __future__ import annotations

from pathlib import Path

from tunelens.catalogue.audio_features import AUDIO_SUFFIXES
from tunelens.catalogue.audio_loader import ProgressCallback, load_audio_folder
from tunelens.catalogue.csv_loader import load_spotify_csv
from tunelens.catalogue.jsonl_loader import load_jsonl
from tunelens.catalogue.load_report import LoadReport
from tunelens.catalogue.text_files import check_text_file
from tunelens.core.errors import CatalogError

__all__ = ["load_source"]


def load_source(
    path: str | Path,
    *,
    max_seconds: float = 120.0,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Load any local catalogue source, choosing the loader from what ``path`` is.

    A directory (or a single audio file) → audio loader; ``.jsonl``/``.ndjson``/``.json`` →
    JSON Lines; ``.csv``/``.tsv``/``.txt`` → CSV; anything else is sniffed (``{`` → JSON
    Lines, else CSV).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CatalogError(
            f"catalogue source not found: {path}. Give a Spotify-style CSV, a JSON Lines file "
            "or a folder of audio files, or a known source name such as spotify-30k",
            code="catalog_missing",
        )
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in AUDIO_SUFFIXES:
        return load_audio_folder(path, max_seconds=max_seconds, progress=progress)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return load_jsonl(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return load_spotify_csv(path)
    check_text_file(path)
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return load_jsonl(path) if head.startswith(b"{") else load_spotify_csv(path)
