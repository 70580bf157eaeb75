"""How one recommendation looks in a terminal: the reading, the explanation and a table of songs,
worded in the listener's language (titles and artists as written).

Apart from the command so the layout can change without touching option parsing or the calls
into the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich import box
from rich.markup import escape
from rich.table import Table

from tunelens import i18n
from tunelens.cli.common import out
from tunelens.core.types import Reading, Recommendation
from tunelens.explain.certainty import certainty


def print_recommendation(rec: Recommendation, tr: i18n.Translator) -> None:
    """The picture's name, its reading, why, and the songs."""
    out.print(f"[bold]{escape(rec.image or tr.gettext('picture'))}[/]", highlight=False)
    for line in reading_lines(rec.reading, tr, rec.target.genres):
        out.print("  " + line, highlight=False)
    if rec.explanation is not None:
        if rec.explanation.hot_regions:
            labels = ", ".join(r.label for r in rec.explanation.hot_regions)
            out.print(
                "  " + tr.gettext("mattered most: %(regions)s", regions=labels), highlight=False
            )
        out.print("  " + tr.gettext("why: %(text)s", text=rec.explanation.text), highlight=False)
    out.print(songs_table(rec, tr))


def reading_lines(
    reading: Reading, tr: i18n.Translator, vibe_genres: Mapping[str, float] | None = None
) -> list[str]:
    """Mood (with valence, arousal and the encoder), the top three vibe genres, the scenes.

    ``vibe_genres`` is the vibe over the catalogue's genres (``AudioTarget.genres``) when the
    answer has one: the genres the songs came from, never one the catalogue lacks."""
    figures = {
        "percent": tr.percent(reading.emotions[reading.top_emotion]),
        "valence": tr.signed(reading.valence),
        "arousal": tr.signed(reading.arousal),
        "encoder": reading.encoder.name,
    }
    if certainty(reading) == "unclear":
        # the same words as the explanation: a flat reading is not shown as a mood
        mood = tr.gettext(
            "mood: hard to tell (strongest %(emotion)s %(percent)s)  valence %(valence)s"
            "  arousal %(arousal)s  · encoder %(encoder)s",
            emotion=tr.label("emotion", reading.top_emotion),
            **figures,
        )
    else:
        mood = tr.gettext(
            "mood: %(emotion)s (%(percent)s)  valence %(valence)s  arousal %(arousal)s"
            "  · encoder %(encoder)s",
            emotion=f"[bold]{tr.label('emotion', reading.top_emotion)}[/]",
            **figures,
        )
    top_genres = sorted((vibe_genres or reading.genres).items(), key=lambda kv: -kv[1])[:3]
    vibe = tr.join([f"{tr.label('genre', g)} {tr.percent(p)}" for g, p in top_genres])
    lines = [mood, tr.gettext("vibe: %(genres)s", genres=vibe)]
    if reading.scenes:
        scenes = tr.join([tr.label("scene", s.name) for s in reading.scenes])
        lines.append(tr.gettext("scene: %(scenes)s", scenes=scenes))
    return lines


def songs_table(rec: Recommendation, tr: i18n.Translator) -> Table:
    """Rank, song, artist, genre, score and the reasons each song was picked."""
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(tr.pgettext("table heading", "song"))
    table.add_column(tr.pgettext("table heading", "artist"))
    table.add_column(tr.pgettext("table heading", "genre"))
    table.add_column(tr.pgettext("table heading", "score"), justify="right")
    table.add_column(tr.pgettext("table heading", "why"))
    for item in rec.tracks:
        table.add_row(
            str(item.rank),
            item.track.title,
            item.track.artist,
            item.track.genre or "",
            tr.decimal(item.score),
            "; ".join(item.reasons),
        )
    return table
