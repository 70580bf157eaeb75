"""``tunelens eval affect`` and ``tunelens eval moods`` end to end through the command line, on
a subset of the OASIS calibration photos and a few shared photos (kept small to stay fast)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import PHOTOS_DIR, SHARED_DATA, require_shared
from tunelens.catalogue.build import build_catalog
from tunelens.cli.app import app
from tunelens.quality.photos import BRIGHT, GROUPS, SERENE, SOMBRE, read_shared_photos

OASIS = SHARED_DATA / "affect_oasis_calibration"
MOODS_CSV = SHARED_DATA / "spotify_moods" / "data_moods.csv"

runner = CliRunner()


@pytest.fixture(scope="module")
def moods_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spotify_moods catalogue (686 labelled tracks), built once for the module."""
    out = tmp_path_factory.mktemp("moods") / "catalog"
    build_catalog(require_shared(MOODS_CSV), out)
    return out


def ratings_subset(tmp_path: Path, every: int, limit: int) -> Path:
    """Every ``every``-th row of the calibration ratings, at most ``limit`` (all categories)."""
    source = require_shared(OASIS / "ratings.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)[::every][:limit]
    tmp_path.mkdir(exist_ok=True)
    subset = tmp_path / "ratings.csv"
    with subset.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return subset


def finite_rho(block: dict[str, Any]) -> None:
    for key in ("estimate", "low", "high"):
        value = block[key]
        assert value is not None and math.isfinite(value) and -1 <= value <= 1, (key, block)
    assert block["low"] <= block["high"]


def test_eval_affect_json_on_thirty_calibration_photos(tmp_path: Path, moods_catalog: Path) -> None:
    ratings = ratings_subset(tmp_path, every=12, limit=30)
    args = ["eval", "affect", "--images", str(OASIS / "images"), "--ratings", str(ratings)]
    args += ["--encoder", "colour", "--catalog", str(moods_catalog), "--bootstrap", "60"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "affect-evaluation"
    assert report["photos"] == 30 and report["skipped"] == []
    assert report["encoder"]["name"] == "colour"
    names = [reader["name"] for reader in report["readers"]]
    assert names[0] == "tunelens" and names[-1] == "valdez-mehrabian-1994"
    for reader in report["readers"]:
        assert reader["overall"]["n"] == 30
        finite_rho(reader["overall"]["valence"])
        finite_rho(reader["overall"]["arousal"])
        assert set(reader["categories"]) == {"Animal", "Object", "Person", "Scenery"}
        assert sum(block["n"] for block in reader["categories"].values()) == 30
    few = ratings_subset(tmp_path / "few", every=60, limit=7)
    table_args = ["eval", "affect", "--images", str(OASIS / "images"), "--ratings", str(few)]
    table_args += ["--encoder", "colour", "--catalog", str(moods_catalog), "--bootstrap", "10"]
    table = runner.invoke(app, table_args)
    assert table.exit_code == 0, table.output
    assert "overall (7)" in table.stdout and "Valdez & Mehrabian 1994" in table.stdout


def shared_subset(tmp_path: Path, per_group: int) -> Path:
    """A folder with the first ``per_group`` shared photos of each group (links) and their
    photos.csv rows."""
    photos = read_shared_photos(require_shared(PHOTOS_DIR))
    chosen = [p for g in GROUPS for p in [q for q in photos if q.group == g][:per_group]]
    folder = tmp_path / "photos"
    folder.mkdir()
    with (folder / "photos.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "description"])
        for photo in chosen:
            (folder / photo.file).symlink_to(PHOTOS_DIR / photo.file)
            writer.writerow([photo.file, photo.description])
    return folder


def test_eval_moods_json_on_six_shared_photos(tmp_path: Path, moods_catalog: Path) -> None:
    folder = shared_subset(tmp_path, per_group=2)
    args = ["eval", "moods", "--catalog", str(moods_catalog), "--photos", str(folder)]
    args += ["--songs-catalog", str(moods_catalog), "--encoder", "colour", "--top", "5"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "moods-evaluation" and report["photos"] == 6
    chance = report["catalogue_moods"]
    assert chance == pytest.approx(
        {"Happy": 140 / 686, "Energetic": 154 / 686, "Calm": 195 / 686, "Sad": 197 / 686},
        abs=1e-4,
    )
    for group in (BRIGHT, SOMBRE, SERENE):
        block = report["agreement"]["groups"][group]
        assert len(block["photos"]) == 2 and 0 <= block["suited_share"] <= 1
    songs = report["songs"]
    assert songs["diversity"]["slots"] == 30 and songs["diversity"]["distinct"] <= 30
    assert 0 <= songs["exposure"]["mean_kept"] <= 5
    assert {row["file"] for row in report["readings"]} == {
        path.name for path in folder.iterdir() if path.suffix != ".csv"
    }
    quick = [*args[:6], "--encoder", "colour", "--top", "3", "--no-songs"]
    table = runner.invoke(app, quick)
    assert table.exit_code == 0, table.output
    assert "Happy + Energetic" in table.stdout and "exposure" not in table.stdout
