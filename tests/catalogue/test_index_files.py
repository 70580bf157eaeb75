"""The format-2 index on disk (read by ``catalog upgrade``): round trip, atomic writes, and every
kind of damage refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.index_files import (
    FORMAT_VERSION,
    IndexContents,
    TextEmbeddings,
    index_meta,
    read_index_dir,
    write_index_dir,
)
from tunelens.catalogue.models import Catalogue, content_hash_of
from tunelens.catalogue.scaler import SCALE_METHOD
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError
from tunelens.web.http_status import http_status


class _Legacy:
    """The format-2 reader and writer, wrapped like the index's own load and save."""

    def __init__(self, contents: IndexContents) -> None:
        self.contents = contents
        self.catalogue = contents.catalogue
        self.scaler = contents.scaler

    def __len__(self) -> int:
        return len(self.catalogue)


def legacy_save(index: CatalogueIndex, path: Path) -> Path:
    text = None
    if index.text_embeddings is not None and index.text_model_id is not None:
        text = TextEmbeddings(index.text_embeddings, index.text_model_id)
    kind = "hnsw" if index.kind == "hnsw" else "flat"
    contents = IndexContents(index.catalogue, index.scaler, kind, index._base, text=text)
    return write_index_dir(
        path,
        IndexContents(
            index.catalogue,
            index.scaler,
            kind,
            index._base,
            text=text,
            meta=index_meta(contents, None),
        ),
    )


def legacy_load(path: Path, expected_text_model_id: str | None = None) -> _Legacy:
    return _Legacy(read_index_dir(Path(path), expected_text_model_id=expected_text_model_id))


def test_save_load_round_trip(catalogue: Catalogue, tmp_path: Path) -> None:
    text = np.random.default_rng(1).normal(size=(len(catalogue), 8)).astype(np.float32)
    index = CatalogueIndex.build(catalogue, text_embeddings=text, text_model_id="clip:abc")
    out = legacy_save(index, tmp_path / "idx")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "features.npy",
        "index.faiss",
        "meta.json",
        "text_embeddings.npy",
        "tracks.jsonl",
    ]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["track_count"] == len(catalogue)
    assert meta["scaler"]["method"] == SCALE_METHOD
    assert meta["catalogue_hash"] == content_hash_of(catalogue.ids(), catalogue.feature_matrix())
    assert meta["text_model_id"] == "clip:abc" and meta["index_kind"] == "flat"
    assert meta["feature_names"] == list(MOOD_FEATURES) and "created_at" in meta

    loaded = legacy_load(out, expected_text_model_id="clip:abc")
    assert loaded.catalogue.tracks == catalogue.tracks
    assert loaded.scaler == index.scaler
    assert loaded.contents.text is not None
    np.testing.assert_array_equal(loaded.contents.text.vectors, text)
    with pytest.raises(CatalogError) as err:
        legacy_load(out, expected_text_model_id="clip:other")
    assert err.value.code == "index_mismatch" and "clip:abc" in err.value.message
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


@pytest.fixture
def saved(catalogue: Catalogue, tmp_path: Path) -> Path:
    return legacy_save(CatalogueIndex.build(catalogue), tmp_path / "idx")


def test_edited_features_npy_is_index_mismatch(saved: Path) -> None:
    features = np.load(saved / "features.npy")
    features[3, FEATURES.index("energy")] += 0.01
    np.save(saved / "features.npy", features)
    with pytest.raises(CatalogError) as err:
        legacy_load(saved)
    assert err.value.code == "index_mismatch"
    assert "tunelens catalog build" in err.value.message


def test_edited_tracks_jsonl_is_index_mismatch(saved: Path) -> None:
    lines = (saved / "tracks.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[10])
    row["features"]["valence"] = 0.123
    lines[10] = json.dumps(row)
    (saved / "tracks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        legacy_load(saved)
    assert err.value.code == "index_mismatch"


def test_missing_dir_tells_the_user_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        legacy_load(tmp_path / "nowhere")
    assert err.value.code == "catalog_missing"
    assert "tunelens catalog build SOURCE -o" in err.value.message
    assert "tunelens catalog fetch spotify-30k" in err.value.message
    assert http_status(err.value) == 503


@pytest.mark.parametrize(
    ("name", "damage", "code"),
    [
        ("meta.json", b"{not json", "index_corrupt"),
        ("index.faiss", b"garbage", "index_corrupt"),
        ("features.npy", b"garbage", "index_corrupt"),
        ("tracks.jsonl", b'{"id": 1}\n', "index_corrupt"),
    ],
)
def test_corrupt_files(saved: Path, name: str, damage: bytes, code: str) -> None:
    (saved / name).write_bytes(damage)
    with pytest.raises(CatalogError) as err:
        legacy_load(saved)
    assert err.value.code == code


def test_other_format_version_and_swapped_faiss(saved: Path, tmp_path: Path) -> None:
    other = legacy_save(CatalogueIndex.build(random_catalogue(seed=5)), tmp_path / "other")
    meta = json.loads((other / "meta.json").read_text())
    meta["format_version"] = 99
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        legacy_load(other)
    assert err.value.code == "index_mismatch" and "format version" in err.value.message


def test_an_index_scaled_the_old_way_asks_for_a_rebuild(saved: Path) -> None:
    """Version 1 indexes scaled features by the IQR alone; their stored vectors are not what
    this version searches, so loading one names the fix instead of recommending from them."""
    meta = json.loads((saved / "meta.json").read_text())
    meta["format_version"] = 1
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        legacy_load(saved)
    assert err.value.code == "index_mismatch"
    assert "format version 1" in err.value.message
    assert "tunelens catalog build" in err.value.message


def test_save_is_atomic_and_refuses_foreign_dirs(
    catalogue: Catalogue, saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (saved / "meta.json").read_text()
    import faiss

    def broken_write(index: object, path: str) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        legacy_save(CatalogueIndex.build(random_catalogue(seed=9)), saved)
    monkeypatch.undo()
    assert (saved / "meta.json").read_text() == before
    assert len(legacy_load(saved)) == len(catalogue)
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]

    # Replacing an existing index works; a foreign non-empty directory is refused.
    smaller = CatalogueIndex.build(random_catalogue(n=20, seed=3))
    legacy_save(smaller, saved)
    assert len(legacy_load(saved)) == 20
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(CatalogError, match="not a tunelens catalogue index"):
        legacy_save(smaller, foreign)
    assert (foreign / "thesis.txt").read_text() == "precious"
