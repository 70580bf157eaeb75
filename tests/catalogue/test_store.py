"""The format-3 catalogue directory: manifest, versions, atomic switch, the writer API."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.catalogue.test_columnar import same_track
from tunelens.catalogue.columnar import table_from_tracks
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.store import FORMAT_VERSION, StoreOptions, write_store
from tunelens.catalogue.store_read import catalogue_version
from tunelens.core.audio import FEATURES
from tunelens.core.errors import CatalogError


def test_save_writes_a_manifest_of_every_file_and_reopens_the_same(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    text = np.random.default_rng(1).normal(size=(len(catalogue), 8)).astype(np.float32)
    index = CatalogueIndex.build(catalogue, text_embeddings=text, text_model_id="clip:abc")
    out = index.save(tmp_path / "idx")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["version"] == 1
    listed = {f["name"]: f for f in meta["files"]}
    on_disk = {p.name for p in out.iterdir()} - {"meta.json", "changes.jsonl"}
    assert set(listed) == on_disk
    for name, entry in listed.items():
        data = (out / name).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    loaded = CatalogueIndex.load(out, expected_text_model_id="clip:abc")
    assert all(map(same_track, loaded.catalogue, catalogue))  # at float32
    assert loaded.catalogue.genres() == catalogue.genres()
    target = index.raw_features()[5]
    assert list(loaded.search(target, {"tempo": 2}, k=7)[0]) == list(
        index.search(target, {"tempo": 2}, k=7)[0]
    )
    stored = loaded.text_embeddings_for("clip:abc")
    assert stored is not None
    np.testing.assert_array_equal(stored, text)
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out, expected_text_model_id="clip:other")
    assert err.value.code == "index_mismatch"


def test_a_rebuild_is_the_next_version_and_old_files_go(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    index = CatalogueIndex.build(catalogue)
    out = index.save(tmp_path / "idx")
    first = {f["name"] for f in json.loads((out / "meta.json").read_text())["files"]}
    index.save(out)
    index.save(out)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["version"] == 3 and catalogue_version(out) == (3, meta["catalogue_hash"])
    assert not first & {p.name for p in out.iterdir()}  # version 1's files are gone
    assert len((out / "changes.jsonl").read_text().splitlines()) == 3


def test_index_header_of_another_version_is_a_mismatch(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    out = CatalogueIndex.build(catalogue).save(tmp_path / "idx")
    meta = json.loads((out / "meta.json").read_text())
    header = out / meta["index"]["header"]
    body = json.loads(header.read_text())
    body["version"] = 7
    header.write_text(json.dumps(body))
    for entry in meta["files"]:  # keep sizes consistent: only the header's content lies
        entry["size"] = (out / entry["name"]).stat().st_size
    (out / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out)
    assert err.value.code == "index_mismatch" and "version 7" in err.value.message


def test_a_file_of_another_size_is_a_mismatch(catalogue: Catalogue, tmp_path: Path) -> None:
    out = CatalogueIndex.build(catalogue).save(tmp_path / "idx")
    segment = next(out.glob("segment-*.arrow"))
    segment.write_bytes(segment.read_bytes() + b"x")
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out)
    assert err.value.code == "index_mismatch"
    segment.unlink()
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(out)
    assert err.value.code == "index_corrupt"


def test_writer_api_takes_flat_feature_columns_and_refuses_duplicates(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """What a distributed build calls: a plain Arrow table, features as 13 columns."""
    packed = table_from_tracks(catalogue)
    matrix = catalogue.feature_matrix()
    columns = {"id": packed.column("id"), "title": packed.column("title")}
    columns["artist"] = packed.column("artist")
    columns.update({name: pa.array(matrix[:, j]) for j, name in enumerate(FEATURES)})
    halves = [pa.table(columns).slice(0, 100), pa.table(columns).slice(100)]
    meta = write_store(tmp_path / "w", halves, StoreOptions(kind="ivf"))
    assert meta["index"]["kind"] == "ivf" and meta["track_count"] == len(catalogue)
    loaded = CatalogueIndex.load(tmp_path / "w")
    np.testing.assert_array_equal(loaded.catalogue.feature_matrix(), matrix)
    assert loaded.catalogue.by_id(catalogue[150].id).title == catalogue[150].title
    with pytest.raises(CatalogError) as err:
        write_store(tmp_path / "dup", [halves[0], halves[0]], StoreOptions())
    assert err.value.code == "catalog_invalid"
    with pytest.raises(CatalogError):
        write_store(tmp_path / "none", pa.table({"id": ["a"]}), StoreOptions())
