"""``tunelens stats``: prediction, feedback and upload figures from the database, as text or
JSON (the same figures ``/stats`` and the admin page show)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from tunelens.cli.common import JsonOption, fail, open_database, out, print_json
from tunelens.core.errors import TunelensError
from tunelens.storage.repository import StatsSummary, stats_summary

NO_RATE = "–"


def stats(
    as_json: JsonOption = False,
    days: Annotated[int, typer.Option(help="Days covered by the per-day figures.")] = 30,
    top: Annotated[int, typer.Option(help="Songs in the most-recommended/liked lists.")] = 10,
) -> None:
    """Prediction, feedback and upload figures from the database."""
    try:
        summary = stats_summary(open_database(), days=days, top=top)
    except TunelensError as error:
        raise fail(error) from None
    if as_json:
        print_json(summary.to_dict(), indent=2)
        return
    for line in prediction_lines(summary):
        out.print(line, highlight=False)
    for line in feedback_lines(summary):
        out.print(line, highlight=False)
    for table in song_tables(summary):
        out.print(table)
    up = summary.uploads
    out.print(
        f"uploads: {up.get('stored', 0)} kept ({up.get('stored_bytes', 0):,} bytes), "
        f"{up.get('pending', 0)} waiting in the outbox, {up.get('declined', 0)} declined",
        highlight=False,
    )


def prediction_lines(summary: StatsSummary) -> Iterator[str]:
    """How many answers, how fast, and which moods they read (no latency line without
    answers: an empty database has none to show, not "None ms")."""
    lat = summary.latency_ms
    if lat.get("p50") is None:
        yield f"predictions: {summary.predictions}  latency: no answers timed yet"
    else:
        yield (
            f"predictions: {summary.predictions}  latency p50 {lat['p50']} ms, "
            f"p95 {lat.get('p95')} ms (last {lat.get('n')})"
        )
    if summary.predictions_by_emotion:
        by_emotion = summary.predictions_by_emotion.items()
        yield "  by emotion: " + ", ".join(f"{e} {n}" for e, n in by_emotion)


def feedback_lines(summary: StatsSummary) -> Iterator[str]:
    """The votes, the like rate, and the like rate per mood and per genre."""
    rate = NO_RATE if summary.like_rate is None else f"{summary.like_rate:.0%}"
    counts = ", ".join(f"{k} {n}" for k, n in summary.feedback.items())
    yield f"feedback: {counts}  like rate {rate}"
    for title, rates in (
        ("like rate by emotion", summary.like_rate_by_emotion),
        ("like rate by genre", summary.like_rate_by_genre),
    ):
        if rates:
            yield f"  {title}: " + ", ".join(rate_text(key, r) for key, r in rates.items())


def rate_text(key: str, rate: Mapping[str, Any]) -> str:
    """``pop 60% (3/5)``: the like rate and the votes it comes from."""
    shown = NO_RATE if rate["rate"] is None else format(rate["rate"], ".0%")
    return f"{key} {shown} ({rate['likes']}/{rate['likes'] + rate['dislikes']})"


def song_tables(summary: StatsSummary) -> Iterator[Table]:
    """The most recommended and the most liked songs, each list that has rows."""
    for title, rows, count in (
        ("most recommended", summary.most_recommended, "count"),
        ("most liked", summary.most_liked, "likes"),
    ):
        if not rows:
            continue
        table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
        for column in ("song", "artist", count):
            table.add_column(column, justify="right" if column == count else "left")
        for row in rows:
            table.add_row(
                row.get("title") or row["track_id"], row.get("artist") or "", str(row[count])
            )
        yield table


def register(app: typer.Typer) -> None:
    app.command()(stats)
