"""The admin dashboard's charts: the analytics summary drawn as SVG in the page's language.

Each chart is built by :mod:`tunelens.web.services.charts`; this module decides what goes in
which chart and how it is labelled.
"""

from __future__ import annotations

from typing import Any

from tunelens import i18n
from tunelens.web.services import charts
from tunelens.web.services.charts import Bar

#: bar colours of the latency and uploads charts
GOOD = "#7cc47f"
SLOW = "#ff7f50"
WAITING = "#f2b134"
OFF = "#8a8f98"


def dashboard_charts(summary: dict[str, Any], tr: i18n.Translator) -> dict[str, str]:
    """Every chart of the dashboard as SVG markup, keyed by name, in ``tr``'s language."""
    no_data = tr.gettext("No data yet.")
    no_votes = tr.gettext("No likes or dislikes yet.")
    return {
        "emotions_over_time": _emotions_over_time(summary, tr, no_data),
        "like_rate_emotion": charts.bar_chart(
            charts.rate_bars(summary["like_rate_by_emotion"], charts.EMOTION_COLOURS),
            title=tr.gettext("Like rate by the picture's emotion"),
            empty=no_votes,
            scale=charts.PERCENT,
        ),
        "like_rate_genre": charts.bar_chart(
            charts.rate_bars(summary["like_rate_by_genre"]),
            title=tr.gettext("Like rate by the song's genre"),
            empty=no_votes,
            scale=charts.PERCENT,
        ),
        "latency": _latency(summary["latency_ms"], tr, no_data),
        "most_recommended": charts.bar_chart(
            _songs(summary["most_recommended"], "count"),
            title=tr.gettext("Most recommended songs"),
            empty=no_data,
            layout=charts.SONG_BARS,
        ),
        "most_liked": charts.bar_chart(
            _songs(summary["most_liked"], "likes"),
            title=tr.gettext("Most liked songs"),
            empty=no_votes,
            layout=charts.SONG_BARS,
        ),
        "feedback": _feedback(summary["feedback"], tr, no_data),
        "uploads": _uploads(summary["uploads"], tr, no_data),
    }


def _emotions_over_time(summary: dict[str, Any], tr: i18n.Translator, empty: str) -> str:
    """Pictures per day, stacked by top emotion (the vocabulary's emotions first, in order)."""
    emotion_names = list(charts.EMOTION_COLOURS)
    seen = {name for day in summary["emotion_by_day"] for name in day["counts"]}
    series = [n for n in emotion_names if n in seen] + sorted(seen - set(emotion_names))
    return charts.stacked_columns(
        summary["emotion_by_day"],
        series,
        title=tr.gettext("Pictures per day by top emotion"),
        empty=empty,
        colours=charts.EMOTION_COLOURS,
    )


def _latency(latency: dict[str, Any], tr: i18n.Translator, empty: str) -> str:
    def ms(value: float) -> str:
        return tr.gettext("%(ms)s ms", ms=tr.integer(round(value)))

    bars = (
        []
        if not latency.get("n")
        else [
            Bar("p50", latency.get("p50"), colour=GOOD),
            Bar("p95", latency.get("p95"), colour=SLOW),
        ]
    )
    return charts.bar_chart(
        bars,
        title=tr.gettext("Latency of recent answers"),
        empty=empty,
        scale=charts.Scale(formatter=ms),
    )


def _songs(rows: list[dict[str, Any]], key: str) -> list[Bar]:
    """One bar per song: its title (else its id), ``row[key]``, and its artist as the note."""
    return [
        Bar(
            label=f"{row.get('title') or row['track_id']}",
            value=float(row[key]),
            note=str(row.get("artist") or ""),
        )
        for row in rows
    ]


def _feedback(feedback: dict[str, Any], tr: i18n.Translator, empty: str) -> str:
    kinds = {
        "like": tr.pgettext("feedback", "like"),
        "dislike": tr.pgettext("feedback", "dislike"),
        "not_interested": tr.pgettext("feedback", "not for me"),
        "played": tr.pgettext("feedback", "played"),
    }
    return charts.bar_chart(
        [Bar(kinds.get(k, k), float(n)) for k, n in feedback.items()],
        title=tr.gettext("Feedback by kind"),
        empty=empty,
    )


def _uploads(uploads: dict[str, Any], tr: i18n.Translator, empty: str) -> str:
    return charts.bar_chart(
        [
            Bar(tr.gettext("kept"), float(uploads.get("stored", 0)), colour=GOOD),
            Bar(
                tr.gettext("waiting in the outbox"),
                float(uploads.get("pending", 0)),
                colour=WAITING,
            ),
            Bar(
                tr.gettext("not kept (no consent)"),
                float(uploads.get("declined", 0)),
                colour=OFF,
            ),
        ],
        title=tr.gettext("Uploads"),
        empty=empty,
    )
