"""How the quality reports of ``tunelens eval affect`` and ``tunelens eval moods`` look in a
terminal: operator-facing English tables of the JSON reports :mod:`tunelens.quality` builds.

Apart from the commands so the layout can change without touching option parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from tunelens.quality.moods import MOODS

NONE = "–"


def rho(block: Mapping[str, Any]) -> str:
    """``0.17 [0.07, 0.27]`` — a ρ with its 95 % interval (dashes for what is undefined)."""
    estimate, low, high = block.get("estimate"), block.get("low"), block.get("high")
    text = NONE if estimate is None else f"{estimate:+.2f}"
    if low is not None and high is not None:
        text += f" [{low:+.2f}, {high:+.2f}]"
    return text


def percent(value: float | None) -> str:
    return NONE if value is None else f"{100 * value:.0f} %"


def affect_tables(report: Mapping[str, Any]) -> Iterator[Table | str]:
    """The agreement table (overall and per category), then the differences from the
    baseline, then what was skipped."""
    encoder = report["encoder"]
    faces = report["faces"]
    yield (
        f"[bold]{report['photos']} rated photos[/] ({report['themes']} themes) · encoder "
        f"{encoder['name']}{' (fallback)' if encoder.get('fallback') else ''} · faces "
        f"{'on' if faces['on'] else 'off'}, found on {faces['photos_with_faces']} photos · "
        f"{report['bootstrap']['rounds']} bootstrap rounds, seed {report['bootstrap']['seed']}"
    )
    table = Table(
        box=box.SIMPLE_HEAD,
        title="Spearman ρ against people's mean ratings [95 % interval]",
        title_justify="left",
    )
    for column in ("photos · reader", "valence ρ", "arousal ρ"):
        table.add_column(column, no_wrap=True)
    scopes = ["overall", *sorted(report["readers"][0]["categories"])]
    for scope in scopes:
        first = report["readers"][0]
        n = first["overall"]["n"] if scope == "overall" else first["categories"][scope]["n"]
        table.add_row(f"[bold]{scope}[/] ({n})", "", "")
        for i, reader in enumerate(report["readers"]):
            block = reader["overall"] if scope == "overall" else reader["categories"][scope]
            table.add_row(
                "  " + reader["label"],
                rho(block["valence"]),
                rho(block["arousal"]),
                end_section=i == len(report["readers"]) - 1,
            )
    yield table
    for reader in report["readers"]:
        if "minus_baseline" in reader:
            diff = reader["minus_baseline"]
            yield (
                f"{reader['label']} minus the baseline: valence {rho(diff['valence'])}, "
                f"arousal {rho(diff['arousal'])}"
            )
    if report["skipped"]:
        yield f"skipped {len(report['skipped'])} unreadable photos: " + ", ".join(
            item["file"] for item in report["skipped"][:10]
        )


def agreement_table(report: Mapping[str, Any]) -> Table:
    """Per group of photos: the share of suited mood labels among their songs."""
    agreement = report["agreement"]
    chance = report["catalogue_moods"]
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"mood labels of the top {report['top']} songs (catalogue {report['moods_catalog']})",
        title_justify="left",
    )
    for column in ("photos", "n", "suited labels", "share", "at random"):
        table.add_column(
            column, justify="left" if column in ("photos", "suited labels") else "right"
        )
    for group, block in agreement["groups"].items():
        table.add_row(
            group,
            str(len(block["photos"])),
            " + ".join(block["suited_moods"]),
            percent(block["suited_share"]),
            percent(sum(chance[m] for m in block["suited_moods"])),
        )
    table.add_row(
        "all", str(report["photos"]), "Calm", percent(agreement["calm_share_all"]),
        percent(chance["Calm"]),
    )  # fmt: skip
    return table


#: short names of the photo groups in the readings table
SHORT_GROUP = {"dark and sombre": "sombre", "serene": "serene", "bright and happy": "bright"}


def readings_table(report: Mapping[str, Any]) -> Table:
    """Per photo: group, reading, and how many of its songs carry each mood label (Happy,
    Energetic, Calm, Sad); ``!`` marks a calm, bright or warm photo read as fear or anger."""
    table = Table(
        box=None,
        title="readings and song moods",
        title_justify="left",
        pad_edge=False,
        padding=(0, 1),
    )
    heading = "/".join(mood[0] for mood in MOODS)
    table.add_column("photo", no_wrap=True, max_width=28, overflow="ellipsis")
    for column in ("group", "top emotion", "val.", "ar.", heading):
        table.add_column(column, no_wrap=True)
    for row in report["readings"]:
        table.add_row(
            Path(row["file"]).stem.removesuffix("_01"),
            SHORT_GROUP.get(row["group"] or "", ""),
            f"{row['top_emotion']} {100 * row['top_emotion_p']:.0f}%"
            + (" [bold red]![/]" if row["alarmed"] else ""),
            f"{row['valence']:+.2f}",
            f"{row['arousal']:+.2f}",
            "/".join(str(row["moods"].get(mood, 0)) for mood in MOODS),
        )
    return table


def moods_tables(report: Mapping[str, Any]) -> Iterator[Table | str]:
    """Readings, mood agreement, then diversity and exposure on the songs catalogue."""
    encoder = report["encoder"]
    yield (
        f"[bold]{report['photos']} photos[/] · encoder {encoder['name']}"
        f"{' (fallback)' if encoder.get('fallback') else ''} · faces "
        f"{'on' if report['faces'] else 'off'}"
    )
    yield readings_table(report)
    yield agreement_table(report)
    alarmed = report["alarmed"]
    yield f"(!) calm, bright or warm photos read as fear or anger: {len(alarmed)}" + (
        f" ({', '.join(alarmed)})" if alarmed else ""
    )
    songs = report["songs"]
    if songs is None:
        return
    variety = songs["diversity"]
    exposure = songs["exposure"]
    most = variety["most_repeated"][0] if variety["most_repeated"] else None
    yield (
        f"on {songs['catalog']} ({songs['catalogue_size']} songs): {variety['distinct']} distinct "
        f"songs in {variety['slots']} slots; the most repeated fills {variety['max_times']}"
        + (f" ({most['title']} — {most['artist']})" if most else "")
    )
    by_change = exposure["mean_kept_by_change"]
    yield (
        f"±10 % exposure keeps {exposure['mean_kept']:.1f} of {exposure['top']} songs on average "
        f"(brighter {by_change['brighter']:.1f}, darker {by_change['darker']:.1f}, "
        f"worst photo {exposure['min_kept']})"
    )
