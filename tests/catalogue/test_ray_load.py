"""``catalog build --engine ray``: Ray Data parses and validates, the catalogue is the local one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.catalogue.helpers import TIDY_HEADER, tidy_row, write
from tests.conftest import SPOTIFY_CSV, require_shared
from tunelens.catalogue.build import BuildOptions, build_catalog
from tunelens.catalogue.index import CatalogueIndex
from tunelens.core.errors import CatalogError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


RAY = BuildOptions(engine="ray", workers=2)


def _tracks(directory: Path) -> list[dict[str, Any]]:
    return [t.to_dict() for t in CatalogueIndex.load(directory).catalogue]


def _hash(directory: Path) -> str:
    return str(json.loads((directory / "meta.json").read_text())["catalogue_hash"])


def test_ray_build_equals_the_local_build(ray_instance: Any, tmp_path: Path) -> None:
    source = tmp_path / "songs.csv"
    lines = require_shared(SPOTIFY_CSV).read_text(encoding="utf-8").splitlines()[:401]
    # rows the rules refuse, a multi-line title, R's NA title and a duplicate id
    lines += [
        tidy_row("bad1", valence="1.7"),
        tidy_row("bad2", name="NA"),
        tidy_row("ml1", name="two\nlines"),
        tidy_row("null", name="null"),
        tidy_row("ml1", name="two\nlines", playlist_genre="rock"),
    ]
    write(source, lines)
    local = build_catalog(source, tmp_path / "local")
    distributed = build_catalog(source, tmp_path / "ray", options=RAY)
    assert distributed.content_hash == local.content_hash
    assert _hash(tmp_path / "ray") == _hash(tmp_path / "local")
    assert _tracks(tmp_path / "ray") == _tracks(tmp_path / "local")
    assert (distributed.rows_read, distributed.duplicates_merged) == (
        local.rows_read,
        local.duplicates_merged,
    )
    assert [p.reason for p in distributed.problems] == [p.reason for p in local.problems]
    assert len(local.problems) == 2


def test_ray_reads_a_folder_of_csv_and_parquet(ray_instance: Any, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path / "parts"
    folder.mkdir()
    write(folder / "a.csv", [TIDY_HEADER, *(tidy_row(f"a{i}", valence=f"0.{i}") for i in range(9))])
    names = TIDY_HEADER.split(",")
    rows = [tidy_row(f"b{i}", artist=f"B{i}").split(",") for i in range(5)]
    table = pa.table({n: [r[j] for r in rows] for j, n in enumerate(names)})
    pq.write_table(table, folder / "b.parquet")
    result = build_catalog(folder, tmp_path / "out", options=RAY)
    ids = [t["id"] for t in _tracks(tmp_path / "out")]
    assert ids == [f"a{i}" for i in range(9)] + [f"b{i}" for i in range(5)]
    assert result.rows_read == 14


def test_rows_arrow_cannot_parse_stop_the_ray_build(ray_instance: Any, tmp_path: Path) -> None:
    source = write(tmp_path / "broken.csv", [TIDY_HEADER, tidy_row("a"), "x,y,z", tidy_row("b")])
    assert len(build_catalog(source, tmp_path / "local").problems) == 1  # local lists it
    with pytest.raises(CatalogError) as info:
        build_catalog(source, tmp_path / "ray", options=RAY)
    assert info.value.code == "catalog_invalid"
    assert "--engine local" in info.value.message
