"""The per-batch work every engine shares: decode, recommend in one encoder batch, one line
per photo in the order asked, unreadable photos as error lines."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tunelens import pipeline as pipeline_module
from tunelens.batch.sources import LocalFolder
from tunelens.batch.worker import (
    BatchWork,
    chunks,
    load_pipeline,
    process_batch,
    process_batches,
    settings_from,
)
from tunelens.pipeline import RecommendOptions
from tunelens.storage.errors import BlobStoreUnavailable


def _work(folder: Path, catalog: Path, **settings: object) -> BatchWork:
    return BatchWork(
        source=LocalFolder(folder),
        settings=dict(settings),
        encoder="colour",
        catalog_dir=catalog,
        k=3,
        batch_size=2,
        workers=1,
    )


def test_one_line_per_photo_in_the_order_asked(photo_folder: Path, tiny_catalog: Path) -> None:
    work = _work(photo_folder, tiny_catalog)
    pipeline = load_pipeline(work)
    names = ["sub/c.png", "broken.jpg", "gone.png", "a.png"]
    lines = process_batch(pipeline, work.source, names, work.k)
    assert [line["photo"] for line in lines] == names
    assert [line["status"] for line in lines] == ["ok", "error", "error", "ok"]
    assert lines[1]["error"]["code"] == "not_an_image"
    assert lines[2]["error"] == {
        "code": "not_found",
        "message": "gone.png disappeared before reading",
    }
    ok = lines[0]
    assert len(ok["tracks"]) == 3 and ok["reading"]["encoder"]["name"] == "colour"
    assert set(ok["target"]) == {"features", "weights", "genres"}
    assert "valence" in ok["target"]["features"]
    assert ok["timings_ms"]["decode"] >= 0


def test_the_lines_are_the_pipelines_answers(photo_folder: Path, tiny_catalog: Path) -> None:
    """The target and songs of a line are exactly what the pipeline answered for the photo."""
    work = _work(photo_folder, tiny_catalog)
    pipeline = load_pipeline(work)
    [line] = process_batch(pipeline, work.source, ["b.png"], 3)
    rec = pipeline.recommend_file(photo_folder / "b.png", RecommendOptions(k=3))
    assert line["target"] == rec.target.model_dump(mode="json")
    assert [t["id"] for t in line["tracks"]] == [t.track.id for t in rec.tracks]
    assert line["sha256"] == rec.image_sha256


def test_batch_lines_word_nothing(
    photo_folder: Path, tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line shows no reasons or explanation, so none are written for it."""
    work = _work(photo_folder, tiny_catalog)
    pipeline = load_pipeline(work)
    expected = process_batch(pipeline, work.source, ["a.png", "b.png"], work.k)

    def worded(*args: object, **kwargs: object) -> object:
        raise AssertionError("a batch line was worded")

    monkeypatch.setattr(pipeline_module, "answer_reasons", worded)
    monkeypatch.setattr(pipeline_module, "explain_reading", worded)
    lines = process_batch(pipeline, work.source, ["a.png", "b.png"], work.k)
    assert _strip_timings([lines]) == _strip_timings([expected])


def _strip_timings(batches: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    return [[{k: v for k, v in line.items() if k != "timings_ms"} for line in b] for b in batches]


def test_decoding_ahead_gives_the_same_lines_in_the_same_order(
    photo_folder: Path, tiny_catalog: Path
) -> None:
    """The next batch is decoded in a thread while this one is answered: the lines are those
    of :func:`process_batch`, batch by batch, unreadable photos included."""
    work = _work(photo_folder, tiny_catalog)
    pipeline = load_pipeline(work)
    batches = [["a.png", "broken.jpg"], ["gone.png"], ["sub/c.png", "b.png", "a.png"]]
    ahead = list(process_batches(pipeline, work.source, iter(batches), work.k))
    one_by_one = [process_batch(pipeline, work.source, b, work.k) for b in batches]
    assert _strip_timings(ahead) == _strip_timings(one_by_one)
    assert list(process_batches(pipeline, work.source, [], work.k)) == []


@dataclass(frozen=True)
class _StoreDiesAt:
    """A folder whose store goes away when ``dead`` is read."""

    folder: LocalFolder
    dead: str

    @property
    def label(self) -> str:
        return self.folder.label

    def list_photos(self) -> list[str]:
        return self.folder.list_photos()

    def read(self, name: str) -> Path:
        if name == self.dead:
            raise BlobStoreUnavailable("the store went away")
        return self.folder.read(name)


def test_a_store_error_surfaces_at_its_own_batch(photo_folder: Path, tiny_catalog: Path) -> None:
    """Decoding ahead must not lose the batches before the one the store died in."""
    work = _work(photo_folder, tiny_catalog)
    pipeline = load_pipeline(work)
    source = _StoreDiesAt(LocalFolder(photo_folder), "b.png")
    answered = process_batches(pipeline, source, [["a.png"], ["b.png"], ["sub/c.png"]], work.k)
    assert [line["photo"] for line in next(answered)] == ["a.png"]
    with pytest.raises(BlobStoreUnavailable):
        next(answered)


def test_the_work_travels_to_other_processes(photo_folder: Path, tiny_catalog: Path) -> None:
    work = _work(photo_folder, tiny_catalog, top_k=4)
    assert pickle.loads(pickle.dumps(work)) == work


def test_settings_give_workers_their_share_of_threads() -> None:
    assert settings_from({}, threads=3).onnx_threads == 3
    assert settings_from({"onnx_threads": 2}, threads=3).onnx_threads == 2
    assert settings_from({"top_k": 7}).top_k == 7


@pytest.mark.parametrize(("size", "expected"), [(2, [[1, 2], [3, 4], [5]]), (9, [[1, 2, 3, 4, 5]])])
def test_chunks(size: int, expected: list[list[int]]) -> None:
    items = [str(i) for i in range(1, 6)]
    assert list(chunks(items, size)) == [[str(i) for i in chunk] for chunk in expected]
