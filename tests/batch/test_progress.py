"""The progress bar: silent when disabled, photos and rate on the console when enabled."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from tunelens.batch.progress import BatchProgress, RateColumn


def test_a_disabled_bar_is_silent() -> None:
    with BatchProgress(5, 0, enabled=False, console=None) as bar:
        bar.advance(5)  # nothing to draw, nothing to fail


def test_an_enabled_bar_counts_photos_and_their_rate() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=120)
    with BatchProgress(4, 3, enabled=True, console=console) as bar:
        bar.advance(4)
    text = buffer.getvalue()
    assert "batch" in text and "4/4" in text and "photos/s" in text


def test_the_rate_column_before_and_after_progress() -> None:
    progress = Progress()
    task_id = progress.add_task("", total=10)
    [task] = progress.tasks
    assert RateColumn().render(task).plain == "– photos/s"
    progress.advance(task_id, 4)
    rate = RateColumn().render(task).plain
    assert rate.endswith(" photos/s") and float(rate.split()[0]) > 0
