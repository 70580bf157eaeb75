"""The index on disk: round trip, atomic writes, and every kind of damage refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.index_files import FORMAT_VERSION
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.scaler import SCALE_METHOD
from tunelens.core.audio import FEATURES, MOOD_FEATURES
from tunelens.core.errors import CatalogError
from tunelens.web.http_status import http_status


def test_save_load_round_trip(catalogue: Catalogue, tmp_path: Path) -> None:
    text = np.random.default_rng(1).normal(size=(len(catalogue), 8)).astype(np.float32)
    index = CatalogueIndex.build(catalogue, text_embeddings=text, text_model_id="clip:abc")
    out = index.save(tmp_path / "idx")
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
    assert meta["catalogue_hash"] == catalogue.content_hash()
    assert meta["text_model_id"] == "clip:abc" and meta["index_kind"] == "flat"
    assert meta["feature_names"] == list(MOOD_FEATURES) and "created_at" in meta

    loaded = CatalogueIndex.load(out, expected_text_model_id="clip:abc")
    assert loaded.catalogue.tracks == catalogue.tracks
    assert loaded.scaler == index.scaler
    np.testing.assert_array_equal(loaded.scaled_features(), index.scaled_features())
    target = index.raw_features()[5]
    assert list(loaded.search(target, {"tempo": 2}, k=7)[0]) == list(
        index.search(target, {"tempo": 2}, k=7)[0]
    )
    stored = loaded.text_embeddings_for("clip:abc")
    assert stored is not None
    np.testing.assert_array_equal(stored, text)
    assert loaded.text_embeddings_for("clip:other") is None
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out, expected_text_model_id="clip:other")
    assert err.value.code == "index_mismatch" and "clip:abc" in err.value.message
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


@pytest.fixture
def saved(catalogue: Catalogue, tmp_path: Path) -> Path:
    return CatalogueIndex.build(catalogue).save(tmp_path / "idx")


def test_edited_features_npy_is_index_mismatch(saved: Path) -> None:
    features = np.load(saved / "features.npy")
    features[3, FEATURES.index("energy")] += 0.01
    np.save(saved / "features.npy", features)
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"
    assert "tunelens catalog build" in err.value.message


def test_edited_tracks_jsonl_is_index_mismatch(saved: Path) -> None:
    lines = (saved / "tracks.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[10])
    row["features"]["valence"] = 0.123
    lines[10] = json.dumps(row)
    (saved / "tracks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"


def test_missing_dir_tells_the_user_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(tmp_path / "nowhere")
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
        CatalogueIndex.load(saved)
    assert err.value.code == code


def test_other_format_version_and_swapped_faiss(saved: Path, tmp_path: Path) -> None:
    other = CatalogueIndex.build(random_catalogue(seed=5)).save(tmp_path / "other")
    (saved / "index.faiss").write_bytes((other / "index.faiss").read_bytes())
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
    assert err.value.code == "index_mismatch"
    meta = json.loads((other / "meta.json").read_text())
    meta["format_version"] = 99
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(other)
    assert err.value.code == "index_mismatch" and "format version" in err.value.message


def test_an_index_scaled_the_old_way_asks_for_a_rebuild(saved: Path) -> None:
    """Version 1 indexes scaled features by the IQR alone; their stored vectors are not what
    this version searches, so loading one names the fix instead of recommending from them."""
    meta = json.loads((saved / "meta.json").read_text())
    meta["format_version"] = 1
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(saved)
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
        CatalogueIndex.build(random_catalogue(seed=9)).save(saved)
    monkeypatch.undo()
    assert (saved / "meta.json").read_text() == before
    assert len(CatalogueIndex.load(saved)) == len(catalogue)
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]

    # Replacing an existing index works; a foreign non-empty directory is refused.
    smaller = CatalogueIndex.build(random_catalogue(n=20, seed=3))
    smaller.save(saved)
    assert len(CatalogueIndex.load(saved)) == 20
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(CatalogError, match="not a tunelens catalogue index"):
        smaller.save(foreign)
    assert (foreign / "thesis.txt").read_text() == "precious"
