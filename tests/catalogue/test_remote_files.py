"""The manifest of a catalogue version and the local cache of downloaded versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.remote_files import (
    CatalogueCache,
    CatalogueFile,
    describe_files,
    listed_files,
)
from tunelens.core.digest import sha256_file
from tunelens.core.errors import CatalogError


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/../../b", "meta.json", ""])
def test_manifest_names_cannot_leave_the_catalogue(name: str) -> None:
    meta = {"files": [{"name": name, "size": 1, "sha256": "0" * 64}]}
    with pytest.raises(CatalogError) as info:
        listed_files(meta, "s3://b/p/meta.json")
    assert info.value.code == "catalog_remote_corrupt"


def test_every_listed_file_is_described_and_checked(tmp_path: Path) -> None:
    directory = tmp_path / "cat"
    CatalogueIndex.build(random_catalogue(60)).save(directory)
    meta = json.loads((directory / "meta.json").read_text())
    described = describe_files(directory, meta)
    on_disk = {p.name for p in directory.iterdir() if p.name != "meta.json"}
    assert {f.name for f in described} <= on_disk
    for item in described:
        assert item.size == (directory / item.name).stat().st_size
        assert item.sha256 == sha256_file(directory / item.name)
    # a manifest that records other bytes than the directory holds is refused
    lying = {**meta, "files": [{**described[0].to_dict(), "sha256": "f" * 64}]}
    with pytest.raises(CatalogError) as info:
        describe_files(directory, lying)
    assert info.value.code == "index_mismatch"


def test_old_format_without_a_files_list_names_its_known_files() -> None:
    names = [f.name for f in listed_files({"text_model_id": "clip"}, "x")]
    assert names == ["tracks.jsonl", "features.npy", "index.faiss", "text_embeddings.npy"]


def _install(cache: CatalogueCache, vid: str, content: bytes) -> Path:
    staging = cache.stage()
    (staging / "data.bin").write_bytes(content)
    files = [CatalogueFile("data.bin", len(content), sha256_file(staging / "data.bin"))]
    (staging / "meta.json").write_text(json.dumps({"files": [f.to_dict() for f in files]}))
    return cache.install(staging, vid)


def test_cache_switches_whole_versions_reuses_files_and_prunes(tmp_path: Path) -> None:
    cache = CatalogueCache(tmp_path / "cache")
    assert cache.current() is None
    first = _install(cache, "v1", b"one")
    assert cache.current() == first
    second = _install(cache, "v2", b"two")
    assert cache.current() == second and str(cache.link.readlink()) == "versions/v2"
    # a file with a sha256 an installed version holds is linked, not downloaded
    into = cache.stage()
    wanted = CatalogueFile("copy.bin", 3, sha256_file(first / "data.bin"))
    assert cache.reuse(wanted, into)
    assert (into / "copy.bin").read_bytes() == b"one"
    assert not cache.reuse(CatalogueFile("x", 3, "0" * 64), into)
    os.utime(first, (1, 1))  # v1 is the oldest
    _install(cache, "v3", b"three")
    cache.prune()
    kept = sorted(p.name for p in cache.versions.iterdir() if not p.name.startswith("."))
    assert kept == ["v2", "v3"]  # the current one and the newest previous one
