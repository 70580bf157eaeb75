"""The server's micro-batching encoder: overlapping calls share runs, every caller gets its
own rows, errors reach exactly the callers of the failed run, and a lone call never waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunelens.vision.base import FloatArray
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage
from tunelens.vision.microbatch import MicroBatchingEncoder


def picture(seed: int) -> LoadedImage:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(64, 80, 3), dtype=np.uint8)
    return LoadedImage(pixels, (80, 64), "PNG", f"{seed:064x}", int(pixels.nbytes))


class SlowColour(ColourEncoder):
    """The real colour encoder, slowed down so calls overlap, recording each run's size."""

    def __init__(self, delay: float = 0.03, fail_on: set[str] | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.fail_on = fail_on or set()
        self.runs: list[int] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        with self._lock:
            self.runs.append(len(images))
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(self.delay)
            if any(image.sha256 in self.fail_on for image in images):
                raise RuntimeError("encoder failed on this batch")
            return super().embed_images(images)
        finally:
            with self._lock:
                self.active -= 1


def call_concurrently(
    encoder: MicroBatchingEncoder, pictures: list[LoadedImage]
) -> list[FloatArray | BaseException]:
    results: list[FloatArray | BaseException] = [np.zeros(0, np.float32)] * len(pictures)
    start = threading.Barrier(len(pictures))

    def work(i: int) -> None:
        start.wait()
        try:
            results[i] = encoder.embed_images([pictures[i]])
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pictures))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_overlapping_calls_share_runs_and_get_their_own_rows() -> None:
    inner = SlowColour()
    encoder = MicroBatchingEncoder(inner, max_batch=4)
    pictures = [picture(i) for i in range(12)]
    results = call_concurrently(encoder, pictures)
    expected = ColourEncoder().embed_images(pictures)
    for i, rows in enumerate(results):
        assert isinstance(rows, np.ndarray) and rows.shape == (1, encoder.dim)
        np.testing.assert_allclose(rows[0], expected[i], rtol=1e-6, atol=1e-6)
    assert sum(inner.runs) == 12
    assert len(inner.runs) < 12  # some calls were batched together
    assert max(inner.runs) <= 4  # never more than max_batch pictures per run
    assert inner.most_active == 1  # one encoder run at a time
    assert encoder.counters.calls == 12 and encoder.counters.images == 12


def test_a_lone_call_runs_at_once() -> None:
    inner = SlowColour(delay=0.0)
    encoder = MicroBatchingEncoder(inner)
    rows = encoder.embed_images([picture(1)])
    assert inner.runs == [1] and rows.shape == (1, encoder.dim)


def test_big_calls_skip_the_queue() -> None:
    inner = SlowColour(delay=0.0)
    encoder = MicroBatchingEncoder(inner, max_batch=4)
    rows = encoder.embed_images([picture(i) for i in range(6)])
    assert inner.runs == [6] and rows.shape == (6, encoder.dim)
    assert encoder.counters.calls == 0


def test_a_failed_run_fails_its_callers_only_and_the_encoder_recovers() -> None:
    bad = picture(99)
    inner = SlowColour(fail_on={bad.sha256})
    encoder = MicroBatchingEncoder(inner, max_batch=2)
    pictures = [picture(i) for i in range(5)] + [bad]
    results = call_concurrently(encoder, pictures)
    assert isinstance(results[-1], RuntimeError)
    failed = [r for r in results if isinstance(r, BaseException)]
    # the failed run held the bad picture and at most one other caller's
    assert 1 <= len(failed) <= 2
    assert all(isinstance(r, RuntimeError) for r in failed)
    assert sum(isinstance(r, np.ndarray) for r in results) == len(pictures) - len(failed)
    assert encoder.embed_images([picture(5)]).shape == (1, encoder.dim)


def test_invalid_max_batch() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatchingEncoder(ColourEncoder(), max_batch=0)


def test_the_server_batches_overlapping_requests_when_configured(
    spotify_catalog: Path, tmp_path: Path
) -> None:
    """TUNELENS_MICRO_BATCH > 1 wraps the loaded engine's encoder; concurrent uploads through
    the real app still each get their own answer."""
    from fastapi.testclient import TestClient

    from tests.conftest import PHOTOS_DIR, require_shared
    from tests.web.conftest import offline_settings
    from tunelens.web.app import create_app
    from tunelens.web.settings import WebSettings

    settings = offline_settings(tmp_path / "home", catalog_dir=spotify_catalog)
    web = WebSettings(micro_batch=4, engine_concurrency=4)
    names = ["forest_path_01.jpg", "kite_blue_sky_clouds_01.jpg", "sunset_lake_rowboats_01.jpg"]
    blobs = [require_shared(PHOTOS_DIR / name).read_bytes() for name in names]
    app = create_app(settings, encoder="colour", catalog_dir=spotify_catalog, web_settings=web)
    with TestClient(app) as client:
        engine = app.state.tunelens.engine
        assert isinstance(engine.encoder, MicroBatchingEncoder)
        alone = [
            client.post("/api/v1/recommend", files={"image": ("p.jpg", b, "image/jpeg")}).json()
            for b in blobs
        ]
        answers: list[Any] = [None] * 6

        def post(i: int) -> None:
            files = {"image": ("p.jpg", blobs[i % 3], "image/jpeg")}
            answers[i] = client.post("/api/v1/recommend", files=files).json()

        threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for i, answer in enumerate(answers):
            assert answer["reading"]["valence"] == alone[i % 3]["reading"]["valence"]
            ids = [t["track"]["id"] for t in answer["tracks"]]
            assert ids == [t["track"]["id"] for t in alone[i % 3]["tracks"]]
        # the colour encoder's embedding is the colour statistics the reader measures anyway:
        # the pipeline takes them from there (the registry says so) instead of sending the
        # pictures through the batcher to be measured a second time
        assert engine.encoder.counters.calls == 0
