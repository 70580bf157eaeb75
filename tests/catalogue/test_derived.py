"""Arrays derived from one catalogue version, kept beside it for the next start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunelens.catalogue.derived import DERIVED_DIR, derived_key, load_derived, save_derived
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue


def test_saved_arrays_come_back_and_a_new_key_replaces_the_old(tmp_path: Path) -> None:
    first = {"rows": np.arange(5, dtype=np.int64), "names": np.array(["a", "bb"])}
    key = derived_key("hash", 1, b"inputs")
    assert load_derived(tmp_path, "facts", key) is None
    assert save_derived(tmp_path, "facts", key, first)
    got = load_derived(tmp_path, "facts", key)
    assert got is not None and list(got["names"]) == ["a", "bb"]
    np.testing.assert_array_equal(got["rows"], first["rows"])
    newer = derived_key("hash", 2, b"inputs")
    assert newer != key and newer != derived_key("hash", 1, b"other inputs")
    assert save_derived(tmp_path, "facts", newer, {"rows": np.zeros(2)})
    assert load_derived(tmp_path, "facts", key) is None  # the older version's file is gone
    assert len(list((tmp_path / DERIVED_DIR).iterdir())) == 1


def test_an_unwritable_directory_only_means_computing_again(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert not save_derived(blocked, "facts", "k", {"rows": np.zeros(1)})
    assert load_derived(blocked, "facts", "k") is None


def test_an_opened_catalogue_computes_once_per_version(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    CatalogueIndex.build(catalogue).save(tmp_path / "cat")
    calls: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"n": np.array([len(calls)])}

    first = CatalogueIndex.load(tmp_path / "cat").derived("n", b"x", compute)
    again = CatalogueIndex.load(tmp_path / "cat").derived("n", b"x", compute)
    assert len(calls) == 1 and int(first["n"][0]) == int(again["n"][0]) == 1
    CatalogueIndex.load(tmp_path / "cat").derived("n", b"other inputs", compute)
    assert len(calls) == 2
    in_memory = CatalogueIndex.build(catalogue)
    in_memory.derived("n", b"x", compute)
    assert len(calls) == 3  # nothing to keep it beside


def test_the_index_names_one_hash_in_memory_and_on_disk(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    index = CatalogueIndex.build(catalogue)
    before = index.catalogue_hash
    index.save(tmp_path / "cat")
    assert index.meta["catalogue_hash"] == before == catalogue.content_hash()
    loaded = CatalogueIndex.load(tmp_path / "cat")
    assert loaded.catalogue_hash == before == loaded.catalogue.content_hash()


@pytest.mark.parametrize("version", [1, None])
def test_keys_depend_on_every_part(version: int | None) -> None:
    key = derived_key("a", version, b"i")
    assert key != derived_key("b", version, b"i") and len(key) == 24
