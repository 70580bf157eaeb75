"""The batch driver: a job is checked before the output is touched, resolved once, and its
summary counts what this run did; the notices say when readings cannot be trusted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunelens.batch.job import BatchJob, BatchSummary, _notices, resolved_source, run_batch
from tunelens.batch.sources import LocalFolder
from tunelens.core.errors import InvalidRequest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"engine": "spark"}, "unknown engine 'spark'; use local or ray"),
        ({"workers": 0}, "--workers must be at least 1, got 0"),
        ({"batch_size": 0}, "batch size must be at least 1, got 0"),
    ],
)
def test_a_bad_job_is_refused_before_the_output_is_touched(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    out = tmp_path / "out.jsonl"
    job = BatchJob(source=tmp_path / "nowhere", out=out, **change)
    with pytest.raises(InvalidRequest) as caught:
        run_batch(job, progress=False)
    assert caught.value.message == message and not out.exists()


def test_the_source_is_resolved_once_and_the_work_carries_the_job(tmp_path: Path) -> None:
    job = BatchJob(source=str(tmp_path), out=tmp_path / "o.jsonl", k=4, batch_size=3, workers=2)
    source = resolved_source(job)
    assert source == LocalFolder(tmp_path) and job.source is source
    work = job.work()
    assert work.source is source
    assert (work.k, work.batch_size, work.workers, work.encoder) == (4, 3, 2, None)


def test_a_run_writes_lines_and_an_album_and_resumes(
    photo_folder: Path, tiny_catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"

    def job(**kw: Any) -> BatchJob:
        return BatchJob(
            source=photo_folder, out=out, encoder="colour", catalog_dir=tiny_catalog, **kw
        )

    first = run_batch(job(limit=1, album_size=5), progress=False)
    assert (first.total, first.processed, first.skipped) == (4, 1, 0)
    second = run_batch(job(album_size=5), progress=False)
    assert (second.processed, second.skipped, second.ok, second.errors) == (3, 1, 2, 1)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["photo"] * 4 + ["album"]
    assert second.album is not None and lines[-1] == second.album
    assert len(second.album["tracks"]) == 5
    assert second.album["photos"] == 3 and second.album["errors"] == 1
    assert second.notices == []  # the colour encoder, asked for by name


def test_summary_rate() -> None:
    summary = BatchSummary(10, 0, 10, 10, 0, 2.0, None, Path("o"))
    assert summary.rate == 5.0
    assert BatchSummary(0, 0, 0, 0, 0, 0.0, None, Path("o")).rate == 0.0


def test_notices_warn_about_untrustworthy_encoders() -> None:
    def line(name: str, *, pretrained: bool, fallback: bool) -> dict[str, Any]:
        encoder = {"name": name, "pretrained": pretrained, "fallback": fallback}
        return {"status": "ok", "reading": {"encoder": encoder}}

    assert _notices([line("colour", pretrained=False, fallback=False)]) == []
    assert _notices([{"status": "error"}]) == []
    [fallback] = _notices([line("colour", pretrained=False, fallback=True)])
    assert "No usable CLIP weights" in fallback
    [random] = _notices([line("clip", pretrained=False, fallback=False)])
    assert random == "The encoder clip has random weights: readings are meaningless."
