"""The local engine in the driver: batches of ``batch_size`` through the driver's own
pipeline, the same lines as calling the shared work directly. (The process pool is covered
by ``tests/integration/test_batch.py``: it spawns processes.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tunelens.batch.local_engine import run_local, runs_in_driver
from tunelens.batch.sources import LocalFolder
from tunelens.batch.worker import BatchWork, load_pipeline, process_batch


def _work(folder: Path, catalog: Path) -> BatchWork:
    return BatchWork(
        source=LocalFolder(folder),
        settings={},
        encoder="colour",
        catalog_dir=catalog,
        k=2,
        batch_size=2,
        workers=1,
    )


def test_one_worker_runs_in_the_driver(photo_folder: Path, tiny_catalog: Path) -> None:
    work = _work(photo_folder, tiny_catalog)
    assert runs_in_driver(work) and not runs_in_driver(replace(work, workers=2))
    driver = load_pipeline(work)
    names = work.source.list_photos()
    batches = list(run_local(work, names, driver))
    assert [len(batch) for batch in batches] == [2, 2]
    expected = process_batch(driver, work.source, names, work.k)

    def strip(lines: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in line.items() if k != "timings_ms"} for line in lines]

    assert strip([line for batch in batches for line in batch]) == strip(expected)


def test_without_a_driver_pipeline_it_loads_one(photo_folder: Path, tiny_catalog: Path) -> None:
    work = _work(photo_folder, tiny_catalog)
    lines = [line for batch in run_local(work, ["a.png"], None) for line in batch]
    assert [(line["photo"], line["status"]) for line in lines] == [("a.png", "ok")]
