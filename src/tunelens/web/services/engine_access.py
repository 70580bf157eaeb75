"""The few places the web app reaches inside the pipeline, kept in one module.

Routes recommend, look songs up and count the catalogue through
:class:`~tunelens.pipeline.Pipeline`'s own methods. Three facts and one start-up step have no
such method yet: the encoder's parameter count (``/stats``), the reading heads without the
feature head (the admin JSON), and sharing encoder runs between overlapping requests; plus the
stage-timing hook the Prometheus histograms register on. They live here and nowhere else, so a
change of the pipeline's insides is one edit in this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tunelens.pipeline import Pipeline, stage_observers
from tunelens.vision.microbatch import MicroBatchingEncoder


def share_encoder_runs(engine: Pipeline, max_batch: int) -> None:
    """Let overlapping requests share encoder runs of up to ``max_batch`` pictures."""
    engine.encoder = MicroBatchingEncoder(engine.encoder, max_batch=max_batch)


def encoder_parameters(engine: Pipeline) -> int | None:
    """The picture encoder's parameter count, when it knows it."""
    count = getattr(engine.encoder, "n_parameters", None)
    return count if isinstance(count, int) else None


def reading_heads(engine: Pipeline) -> dict[str, dict[str, Any]]:
    """The reading heads in use (emotion, genre), without the audio-feature head."""
    return engine.reader.head_info()


def observe_stages(observer: Callable[[Mapping[str, float]], None]) -> None:
    """Call ``observer`` with each answered picture's stage timings (once, however often
    apps are built in one process)."""
    if observer not in stage_observers:
        stage_observers.append(observer)
