"""Fitting the colour reader on people's ratings: the ratings file, a fit on synthetic photos
whose ratings follow their colour, ``tunelens train reader``, and the refit of the packaged
model from the OASIS calibration data."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REQUIRE_SHARED, SHARED_DATA, require_shared
from tunelens.cli.app import main
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings
from tunelens.reading.colour_model import ColourModel, read_model_file
from tunelens.reading.faces import load_face_reader
from tunelens.reading.ratings import read_ratings
from tunelens.training.affect_fit import READER_FEATURES, fit_reader, write_model
from tunelens.training.affect_report import format_reader_report
from tunelens.training.run import TrainingRun

OASIS = SHARED_DATA / "affect_oasis_calibration"
HEADER = "file,theme,category,valence_mean,arousal_mean\n"


def synthetic_set(folder: Path) -> tuple[Path, Path]:
    """24 photos of 6 themes: valence rises with how vivid the right half is, arousal falls
    with how light the picture is (with a little noise), so a fit must find both."""
    images = folder / "images"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(24):
        grey, vivid = 40 + 7 * ((i * 7) % 24), (i % 8) / 7
        pixels = np.full((64, 96, 3), grey, dtype=np.float64)
        pixels[:, 48:] += vivid * np.array([90.0, -40.0, -60.0])
        name = f"photo_{i:02d}.png"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(images / name)
        valence = 2.0 + 4.0 * vivid + rng.normal(0, 0.1)
        arousal = 6.0 - 4.0 * (grey - 40) / 161 + rng.normal(0, 0.1)
        rows.append(f"{name},theme{i % 6},Object,{valence:.4f},{arousal:.4f}\n")
    ratings = folder / "ratings.csv"
    ratings.write_text(HEADER + "".join(rows), encoding="utf-8")
    return images, ratings


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, Path]:
    return synthetic_set(tmp_path / "rated")


def run() -> TrainingRun:
    return TrainingRun(Settings(_env_file=None))


def test_a_fit_refuses_ratings_without_two_themes(tmp_path: Path) -> None:
    """The fit reads ratings with the shared reader (tests/reading/test_ratings.py) and needs
    two themes to cross-validate by; the error carries the shared code."""
    path = tmp_path / "ratings.csv"
    path.write_text(HEADER + "a.jpg,x,Object,5,3\nb.jpg,x,Object,4,3\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="at least 2 themes") as error:
        fit_reader(tmp_path, path, run())
    assert error.value.code == "invalid_ratings"


def test_a_fit_finds_what_the_ratings_follow(synthetic: tuple[Path, Path], tmp_path: Path) -> None:
    images, ratings = synthetic
    fit = fit_reader(images, ratings, run())
    report = fit.model["report"]
    cv = report["cross_validation"]
    assert cv["grouped_by"] == "theme" and cv["folds"] == 6
    assert cv["valence"]["spearman"] > 0.8 and cv["arousal"]["spearman"] > 0.8
    assert len(cv["valence"]["spearman_per_fold"]) == 6
    model = ColourModel.from_dict(fit.model)
    assert model.features == READER_FEATURES
    weights = dict(zip(model.features, model.valence.weights, strict=True))
    assert weights["chroma_spread"] > 0  # vivid → pleasant, as the ratings say
    assert dict(zip(model.features, model.arousal.weights, strict=True))["lightness"] < 0
    assert str(model.kernel) in report["emotion_kernel_log_loss"]
    assert report["data"] == {
        "ratings_sha256": hashlib.sha256(ratings.read_bytes()).hexdigest(),
        "photos": 24,
        "themes": 6,
    }
    assert set(report["ablation"]["group_alone"]) >= {"lightness", "chroma", "layout"}
    out = tmp_path / "model.json"
    write_model(fit.model, out)
    assert ColourModel.from_dict(json.loads(out.read_text(encoding="utf-8"))) == model
    text = format_reader_report(fit.model, str(out))
    assert "before (hand-set formula" in text and "theme-grouped" in text and str(out) in text


def test_a_missing_photo_is_named(synthetic: tuple[Path, Path]) -> None:
    images, ratings = synthetic
    (images / "photo_03.png").unlink()
    with pytest.raises(InvalidRequest, match=r"photo_03\.png"):
        fit_reader(images, ratings, run())


def test_train_reader_command(
    synthetic: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images, ratings = synthetic
    out = tmp_path / "fitted.json"
    args = ["train", "reader", "--images", str(images), "--ratings", str(ratings)]
    assert main([*args, "--out", str(out), "--no-faces", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["path"] == str(out) and "faces" not in printed
    assert ColourModel.from_dict(json.loads(out.read_text(encoding="utf-8")))
    assert main([*args, "--out", str(out), "--no-faces"]) == 0
    assert "after  (fitted, held-out themes)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("file\n", encoding="utf-8")
    code = main(["train", "reader", "--images", str(images), "--ratings", str(bad), "--no-faces"])
    assert code == 1
    assert "lacks the ratings columns" in capsys.readouterr().err


def _numbers(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON tree with its path (library versions left out: they name the
    environment, not the fit)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key != "versions":
                yield from _numbers(value, f"{path}/{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _numbers(value, f"{path}/{i}")
    else:
        yield path, tree


@pytest.mark.slow
def test_refit_from_the_calibration_data_gives_the_packaged_model() -> None:
    """Refit as ``tunelens train reader`` does, faces read (the installed default)."""
    images, ratings = require_shared(OASIS / "images"), require_shared(OASIS / "ratings.csv")
    face_reader, notices = load_face_reader(True)
    if face_reader is None:  # the faces extra: installed by scripts/setup.sh, so CI has it
        if REQUIRE_SHARED:
            pytest.fail(" ".join(notices))
        pytest.skip(" ".join(notices))
    packaged = read_model_file()
    refit = json.loads(json.dumps(fit_reader(images, ratings, run(), face_reader).model))
    assert (
        packaged["report"]["data"]["ratings_sha256"]
        == hashlib.sha256(ratings.read_bytes()).hexdigest()
    )
    ours, theirs = dict(_numbers(refit)), dict(_numbers(packaged))
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, float):
            assert math.isclose(ours[key], value, abs_tol=1e-6), key
        else:
            assert ours[key] == value, key


def test_packaged_cross_validation_meets_the_targets() -> None:
    """The figures the fit measured on held-out themes: the offline reader as installed (faces
    read, each photo by the model fitted without its theme) meets issue 15's goals; the colour
    part alone gives up some valence for steadiness under exposure (docs/quality.md)."""
    report = read_model_file()["report"]
    cv, faces = report["cross_validation"], report["faces"]["all_photos"]["faces_on"]
    assert cv["grouped_by"] == "theme" and cv["folds"] >= 5
    assert faces["valence"] >= 0.30 and faces["arousal"] >= 0.20
    assert cv["valence"]["spearman"] >= 0.25 and cv["arousal"]["spearman"] >= 0.20
    assert cv["arousal"]["spearman_mean_fold"] >= 0.20


def test_the_packaged_reader_is_steadier_under_exposure_than_a_plain_ridge() -> None:
    """The fit's own sweep: the chosen β moves valence under ±10 % exposure at most half as
    far as the plain ridge (β = 0) does, and no β moves arousal more than the plain fit."""
    exposure = read_model_file()["report"]["exposure"]
    sweep = exposure["sweep"]
    chosen = sweep[f"{exposure['invariance']:g}"]
    assert chosen["valence_sensitivity"] <= 0.5 * sweep["0"]["valence_sensitivity"]
    assert all(
        row["arousal_sensitivity"] <= sweep["0"]["arousal_sensitivity"] + 1e-9
        for row in sweep.values()
    )


def test_fit_reads_the_shared_ratings_layout() -> None:
    ratings = require_shared(OASIS / "ratings.csv")
    photos = read_ratings(ratings)
    with ratings.open(encoding="utf-8", newline="") as handle:
        assert len(photos) == sum(1 for _ in csv.DictReader(handle))
    assert all(-1 <= p.valence <= 1 and -1 <= p.arousal <= 1 for p in photos)
