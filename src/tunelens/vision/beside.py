"""The colour statistics of a lone picture, measured while the encoder runs on it.

Every reading needs two things from a picture: the encoder's embedding and the colour
statistics of its thumbnail (≈ 3.5–4 ms for a 1080p photo). Neither needs the other, and ONNX
Runtime releases the GIL while its graph runs. At batch 1 the graph's two intra-op threads
leave part of the two cores idle between their parallel sections (ViT-B/32 int8-local alone:
≈ 31 ms on one thread, ≈ 20.5 ms on two, so ≈ a quarter of the core time is waiting), and the
statistics fit there: measured in a side thread, a 1080p request is ≈ 2 ms shorter.

Batches keep measuring before the encoder, in the calling thread: at batch 16 the graph keeps
both cores busy (≈ 27 ms per picture on one thread, ≈ 14.5 on two), so work beside it only
slows it, and the batch worker's decode-ahead thread already fills what little is left (batch
of 16, same sitting: ≈ 40 pictures/s measuring before, ≈ 37–38 measuring beside or in the
decode thread).

Nothing here changes a number: the same functions run on the same pixels, in another thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourStats, colour_stats
from tunelens.vision.imaging import LoadedImage, thumbnail
from tunelens.vision.registry import stats_embedder

#: side threads per process: one serves one request; a second keeps two overlapping requests
#: from queueing behind each other (a job still queued is taken back, see measure_with)
SIDE_THREADS = 2


def measure(images: Sequence[LoadedImage]) -> list[ColourStats]:
    """The colour statistics of each picture's thumbnail, as every reader measures them."""
    return [colour_stats(thumbnail(image)) for image in images]


def measure_with(
    encoder: Encoder, images: Sequence[LoadedImage]
) -> tuple[FloatArray, list[ColourStats]]:
    """Embeddings and colour statistics of ``images``, each measured once.

    An encoder whose embedding *is* the statistics (the registry says which) gets them instead
    of measuring again — also when it is wrapped, e.g. by micro-batching. A lone picture's
    statistics are measured in a side thread while the encoder runs in this one; when the side
    threads are busy with other requests, this call measures its own after the encoder
    instead of waiting in their queue."""
    from_stats = stats_embedder(encoder)
    if from_stats is not None or len(images) != 1:
        stats = measure(images)
        if from_stats is not None:
            return from_stats.embed_stats(stats), stats
        return encoder.embed_images(images), stats
    future = _side_pool().submit(measure, images)
    try:
        embeddings = encoder.embed_images(images)
    finally:
        queued = future.cancel()
    return embeddings, measure(images) if queued else future.result()


_POOL_LOCK = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _side_pool() -> ThreadPoolExecutor:
    """This process's side threads (a forked child makes its own: the parent's threads do not
    exist there)."""
    global _pool
    with _POOL_LOCK:
        pid = os.getpid()
        if _pool is None or _pool[0] != pid:
            _pool = (pid, ThreadPoolExecutor(SIDE_THREADS, thread_name_prefix="tunelens-side"))
        return _pool[1]
