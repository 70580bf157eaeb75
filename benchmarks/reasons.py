"""How well the songs' reasons and the pictures' explanations read, on the 48 shared photos.

Run from the repository root (the default catalogue must be built)::

    python -m benchmarks.reasons                       # colour reader, every language
    python -m benchmarks.reasons --lang en --show 5    # and print five answers in full
    python -m benchmarks.reasons --catalog DIR         # another catalogue (e.g. a fresh build)

Per language it prints:

* **distinct share** — distinct reason strings / all reasons over the 480 songs: how much the
  reasons say about *this* song rather than repeating one line;
* **first names decider** — the share of songs whose first reason names the score part that
  lifted the song most above the answer's mean (its weighted part minus the part's mean over
  the answer's ten songs; a feature reason names the mood part). Songs decided by the
  over-exposure part (``novelty``, which no reason names) are counted apart;
* **most repeated** — the reason given most often across all answers, and how often;
* **1–3 reasons** — the share of songs with one to three reasons;
* **explanations naming an absent genre** — explanation texts that name a vibe genre the
  catalogue has no songs of (e.g. "mostly jazz" in a catalogue without jazz).

A reason's kind is found from its text: the text a score part's reason would have for that
song (``explain.reason_words.part_text``), else a mood feature. The script runs against older
checkouts too (``PYTHONPATH=<old>/src``), so before/after figures come from one catalogue.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.types import Recommendation
from tunelens.explain.reason_words import part_text
from tunelens.i18n import languages, translator
from tunelens.pipeline import Pipeline, RecommendOptions, build_pipeline
from tunelens.quality.photos import read_shared_photos
from tunelens.vision.imaging import FAST_WORK_SIDE, load_image

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
#: score parts whose reason a text can be matched against
NAMED_PARTS = ("genre", "emotion", "text", "liked", "prior", "popularity")
#: numbers (with their sign, decimal mark and unit-less digits) in any script
_NUMBER = re.compile(r"[−+-]?\d+(?:[.,٫]\d+)?|[\u0966-\u096f]+")


def template(text: str) -> str:
    """A reason with its numbers taken out: "sunnier than most songs (valence #)"."""
    return _NUMBER.sub("#", text)


def same_first_share(rec: Recommendation) -> float:
    """The share of an answer's songs whose first reason, numbers aside, is the answer's most
    common first reason (1/10: every song opens differently; 1: one line ten times)."""
    firsts = Counter(template(item.reasons[0]) for item in rec.tracks if item.reasons)
    return max(firsts.values(), default=0) / max(1, len(rec.tracks))


def reason_kind(pipeline: Pipeline, rec: Recommendation, index: int, text: str, lang: str) -> str:
    """Which part a reason's text names ("mood" for a feature reason, "faces" for a face)."""
    item = rec.tracks[index]
    track = pipeline.track(item.track.id)
    t = translator(lang)
    placed = getattr(pipeline, "mood_point", None)  # the folded vibe the genre reasons quote
    point = placed(rec.reading) if placed is not None else None
    if track is not None:
        for part in NAMED_PARTS:
            said = part_text(part, track, rec.reading, t, point) if point else None
            if text in (said, part_text(part, track, rec.reading, t)):
                return part
    for face in rec.reading.faces or []:
        expression = t.label("expression", face.top_expression)
        for n in (1, 2):
            said = t.ngettext(
                "suits the %(expression)s face in the photo",
                "suits the %(expression)s faces in the photo",
                n,
                expression=expression,
            )
            if said == text:
                return "faces"
    return "mood"


def decider(rec: Recommendation, index: int) -> str:
    """The part that lifted song ``index`` most above its answer's mean."""
    parts = {p for item in rec.tracks for p in item.parts}
    means = {p: float(np.mean([i.parts.get(p, 0.0) for i in rec.tracks])) for p in parts}
    item = rec.tracks[index]
    return max(parts, key=lambda p: item.parts.get(p, 0.0) - means[p])


def absent_genre_named(pipeline: Pipeline, rec: Recommendation, lang: str) -> bool:
    """Whether the explanation names a vibe genre the catalogue has no songs of."""
    if rec.explanation is None:
        return False
    present = set(pipeline.recommender.profiles.genres.present)
    t = translator(lang)
    text = rec.explanation.text
    return any(
        t.label("genre", g) in text for g in pipeline.reader.genres.names if g not in present
    )


def measure(pipeline: Pipeline, images: list[Any], lang: str) -> dict[str, Any]:
    answers = pipeline.recommend(images, RecommendOptions(k=10, lang=lang))
    reasons = [r for rec in answers for item in rec.tracks for r in item.reasons]
    counts = Counter(reasons)
    named = decided = novelty = 0
    first_kinds: Counter[str] = Counter()
    confusion: Counter[str] = Counter()
    for rec in answers:
        for i, item in enumerate(rec.tracks):
            top = decider(rec, i)
            kind = reason_kind(pipeline, rec, i, item.reasons[0], lang) if item.reasons else ""
            first_kinds[kind] += 1
            confusion[f"{top}->{kind}"] += 1
            if top == "novelty":
                novelty += 1
                continue
            decided += 1
            named += kind == top
    songs = sum(len(rec.tracks) for rec in answers)
    common, times = counts.most_common(1)[0]
    return {
        "lang": lang,
        "reasons": len(reasons),
        "distinct": len(counts),
        "distinct_share": round(len(counts) / len(reasons), 3),
        "first_names_decider": round(named / max(1, decided), 3),
        "decided_by_novelty": novelty,
        "first_kinds": dict(first_kinds),
        "decider->first": dict(confusion.most_common()),
        "templates_share": round(len({template(r) for r in reasons}) / len(reasons), 3),
        "same_first_in_answer": round(float(np.mean([same_first_share(r) for r in answers])), 3),
        "most_repeated": (common, times),
        "one_to_three": round(
            sum(1 <= len(item.reasons) <= 3 for rec in answers for item in rec.tracks) / songs, 3
        ),
        "absent_genre_explanations": sum(absent_genre_named(pipeline, r, lang) for r in answers),
        "answers": answers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--catalog", type=Path, default=None)
    parser.add_argument("--encoder", choices=("auto", "clip", "colour"), default="colour")
    parser.add_argument("--lang", action="append", help="languages (default: every one)")
    parser.add_argument("--show", type=int, default=0, help="print this many answers in full")
    args = parser.parse_args(argv)
    pipeline = build_pipeline(encoder=args.encoder, catalog_dir=args.catalog)
    photos = read_shared_photos(args.photos)
    images = [
        load_image(args.photos / p.file, settings=pipeline.settings, work_side=FAST_WORK_SIDE)
        for p in photos
    ]
    for lang in args.lang or list(languages()):
        result = measure(pipeline, images, lang)
        answers = result.pop("answers")
        for key, value in result.items():
            print(f"{lang}  {key}: {value}")
        for photo, rec in list(zip(photos, answers, strict=True))[: args.show]:
            print(f"\n## {photo.file}\n{rec.explanation.text if rec.explanation else ''}")
            for item in rec.tracks:
                print(f"  {item.rank:2d} {item.track.title[:30]:30s} | " + " ; ".join(item.reasons))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
