"""A lone picture's colour statistics are measured in a side thread while the encoder runs;
the numbers are those measured inline, and a busy side pool never makes a request wait."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from tunelens.vision import beside
from tunelens.vision.base import FloatArray
from tunelens.vision.colour import ColourEncoder, ColourStats, colour_stats
from tunelens.vision.imaging import LoadedImage

WAIT_S = 10.0


def _pictures(n: int) -> list[LoadedImage]:
    rng = np.random.default_rng(7)
    return [
        LoadedImage.from_array(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)) for _ in range(n)
    ]


class _Encoder:
    """An encoder double that records the thread it ran in and can wait for a signal."""

    name = "double"
    dim = 4
    is_pretrained = False
    supports_text = False
    model_id = "double"

    def __init__(self, wait_for: threading.Event | None = None) -> None:
        self.wait_for = wait_for
        self.saw_signal = False
        self.thread: int | None = None

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        self.thread = threading.get_ident()
        if self.wait_for is not None:
            self.saw_signal = self.wait_for.wait(WAIT_S)
        return np.ones((len(images), self.dim), dtype=np.float32) / 2

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        raise NotImplementedError


def _recording_stats(
    monkeypatch: pytest.MonkeyPatch, started: threading.Event | None = None
) -> list[int]:
    threads: list[int] = []

    def measured(pixels: np.ndarray) -> ColourStats:
        threads.append(threading.get_ident())
        if started is not None:
            started.set()
        return colour_stats(pixels)

    monkeypatch.setattr(beside, "colour_stats", measured)
    return threads


def test_a_lone_pictures_statistics_are_measured_while_the_encoder_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = threading.Event()
    threads = _recording_stats(monkeypatch, started)
    encoder = _Encoder(wait_for=started)
    [picture] = _pictures(1)
    embeddings, stats = beside.measure_with(encoder, [picture])
    assert encoder.saw_signal, "the encoder finished before the statistics were started"
    assert threads and threads[0] != encoder.thread
    assert stats == beside.measure([picture])
    assert embeddings.shape == (1, 4)


def test_batches_measure_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _recording_stats(monkeypatch)
    encoder = _Encoder()
    pictures = _pictures(3)
    _, stats = beside.measure_with(encoder, pictures)
    assert set(threads) == {threading.get_ident()} == {encoder.thread}
    assert stats == beside.measure(pictures)


def test_busy_side_threads_do_not_make_a_request_wait() -> None:
    release = threading.Event()
    pool = beside._side_pool()
    blockers = [pool.submit(release.wait, WAIT_S) for _ in range(beside.SIDE_THREADS)]
    try:
        [picture] = _pictures(1)
        _, stats = beside.measure_with(_Encoder(), [picture])
        assert stats == beside.measure([picture])
        assert not any(b.done() for b in blockers)  # it did not wait for the queue
    finally:
        release.set()
    assert all(b.result(WAIT_S) for b in blockers)


def test_an_encoder_made_of_the_statistics_gets_them() -> None:
    pictures = _pictures(2)
    encoder = ColourEncoder()
    embeddings, stats = beside.measure_with(encoder, pictures)
    assert stats == beside.measure(pictures)
    np.testing.assert_array_equal(embeddings, encoder.embed_stats(stats))


def test_a_forked_child_gets_its_own_side_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = beside._side_pool()
    assert beside._side_pool() is parent
    monkeypatch.setattr(beside.os, "getpid", lambda: -1)
    assert beside._side_pool() is not parent
