"""The engine table: every name the job accepts has a runner, and an unknown name is refused
with the known ones listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.batch.engines import ENGINES, engine_named
from tunelens.batch.local_engine import run_local
from tunelens.batch.ray_engine import run_ray
from tunelens.batch.sources import LocalFolder
from tunelens.batch.worker import BatchWork
from tunelens.core.errors import InvalidRequest


def test_the_table_names_every_engine() -> None:
    assert list(ENGINES) == ["local", "ray"]
    assert engine_named("local").run is run_local
    assert engine_named("ray").run is run_ray


def test_only_the_local_engine_with_one_worker_runs_in_the_driver(tmp_path: Path) -> None:
    def work(workers: int) -> BatchWork:
        return BatchWork(LocalFolder(tmp_path), {}, "colour", None, 10, 8, workers)

    assert engine_named("local").in_driver(work(1))
    assert not engine_named("local").in_driver(work(2))
    assert not engine_named("ray").in_driver(work(1))


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        engine_named("spark")
    assert caught.value.message == "unknown engine 'spark'; use local or ray"
