"""Quality against people: the rows of the table in ``docs/quality.md``.

Run from the repository root::

    python -m benchmarks.quality --encoder colour            # both harnesses, markdown rows
    python -m benchmarks.quality --affect a.json --moods m.json   # rows from saved --json reports
    python -m benchmarks.quality --saved benchmarks/results/quality-colour-before.json

It runs what ``tunelens eval affect`` and ``tunelens eval moods`` run (:mod:`tunelens.quality`)
on the shared data beside the checkout — the OASIS calibration photos, the 48 shared photos, a
catalogue built from ``spotify_moods`` (built into ``benchmarks/.work/moods-catalog`` when
missing) and the default catalogue — and prints each headline figure with the goal of issue 15.
The textbook baseline is measured in the same run (it is one of the rows). The full reports go
to ``benchmarks/results/quality-<encoder>.json`` unless ``--no-save``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tunelens.catalogue.build import build_catalog
from tunelens.core.settings import get_settings
from tunelens.quality.affect import AffectJob, evaluate_affect
from tunelens.quality.moods import MoodsJob, evaluate_moods
from tunelens.quality.summary import affect_rows, markdown, moods_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OASIS = SHARED / "affect_oasis_calibration"
MOODS_CSV = SHARED / "spotify_moods" / "data_moods.csv"
WORK = ROOT / "benchmarks" / ".work"
RESULTS = ROOT / "benchmarks" / "results"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def moods_catalog(path: Path | None) -> Path:
    """The given mood-labelled catalogue, or one built once from ``spotify_moods``."""
    if path is not None:
        return path
    built = WORK / "moods-catalog"
    if not (built / "meta.json").exists():
        progress(f"building {built} from {MOODS_CSV}")
        build_catalog(MOODS_CSV, built)
    return built


def run(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both reports, measured now."""
    settings = get_settings()
    affect = evaluate_affect(
        settings,
        AffectJob(
            images=args.images,
            ratings=args.ratings,
            encoder=args.encoder,
            catalog_dir=args.songs_catalog,
            bootstrap=args.bootstrap,
            seed=args.seed,
            progress=progress,
        ),
    )
    moods = evaluate_moods(
        settings,
        MoodsJob(
            photos=args.photos,
            catalog_dir=moods_catalog(args.moods_catalog),
            songs_catalog=args.songs_catalog,
            encoder=args.encoder,
            progress=progress,
        ),
    )
    return affect, moods


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--affect", type=Path, help="a saved `tunelens eval affect --json`")
    parser.add_argument("--moods", type=Path, help="a saved `tunelens eval moods --json`")
    parser.add_argument("--saved", type=Path, help="a results file this script saved")
    parser.add_argument("--encoder", choices=("auto", "clip", "colour"), default=None)
    parser.add_argument("--images", type=Path, default=OASIS / "images")
    parser.add_argument("--ratings", type=Path, default=OASIS / "ratings.csv")
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--moods-catalog", type=Path, default=None)
    parser.add_argument("--songs-catalog", type=Path, default=None)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if (args.affect is None) != (args.moods is None):
        parser.error("give both --affect and --moods, or neither")
    if args.saved is not None:
        saved = json.loads(args.saved.read_text(encoding="utf-8"))
        affect, moods = saved["affect"], saved["moods"]
    elif args.affect is not None:
        affect = json.loads(args.affect.read_text(encoding="utf-8"))
        moods = json.loads(args.moods.read_text(encoding="utf-8"))
    else:
        affect, moods = run(args)
        if not args.no_save:
            RESULTS.mkdir(parents=True, exist_ok=True)
            out = RESULTS / f"quality-{affect['encoder']['name']}.json"
            saved = {"affect": affect, "moods": moods}
            out.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")
            progress(f"reports saved to {out}")
    print(markdown(affect_rows(affect) + moods_rows(moods)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
