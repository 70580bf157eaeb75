"""Linear reading heads from labelled folders (colour encoder, synthetic pictures with a
learnable colour signal): the cross-validated report and its gate, the reader and the
pipeline using the new head, and ``tunelens train/eval``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SPOTIFY_CSV
from tests.labelled_pictures import INFO, labelled_folder, picture, settings_for
from tunelens.cli.app import main
from tunelens.heads.selection import select_head
from tunelens.heads.store import task_dir, versions
from tunelens.pipeline import RecommendOptions, build_pipeline, build_reader
from tunelens.training.evaluation import evaluate
from tunelens.training.linear import train_head
from tunelens.training.run import TrainingRun
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage


@pytest.fixture
def learnable(tmp_path: Path) -> Path:
    return labelled_folder(tmp_path / "learnable")


def test_learnable_folder_beats_baseline_and_the_reader_uses_the_head(
    learnable: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "home")
    result = train_head(learnable, "emotion", TrainingRun(settings, encoder="colour"))
    report = result.report
    assert report["kind"] == "cross-validated" and report["images"] == 28
    assert report["baseline"]["accuracy"] == 0.5
    assert report["accuracy"] > report["baseline"]["accuracy"]
    assert report["macro_f1"] > report["baseline"]["macro_f1"]
    assert report["passed"] and report["activated"] and report["p_value"] < 0.05
    matrix = report["confusion_matrix"]
    assert matrix["labels"] == ["amusement", "sadness"]
    assert sum(map(sum, matrix["rows"])) == 28
    # saved versioned beside the encoder's model id, with its report
    assert result.path.parent == settings.heads_dir / "colour-v1" / "emotion"
    assert json.loads((result.path / "report.json").read_text())["passed"] is True
    assert versions(task_dir(settings.heads_dir, "colour-v1", "emotion")) == [result.path]

    encoder = ColourEncoder()
    reader, notices = build_reader(encoder, INFO, settings)
    assert notices == [] and reader.trained["emotion"].version == result.path.name
    assert reader.head_info()["emotion"]["kind"] == "trained"
    assert reader.head_info()["genre"] == {"kind": "colour"}
    rng = np.random.default_rng(99)
    warm = LoadedImage.from_array(picture(True, rng))
    dark = LoadedImage.from_array(picture(False, rng))
    readings = reader.read([warm, dark], encoder.embed_images([warm, dark]))
    assert [r.top_emotion for r in readings] == ["amusement", "sadness"]
    # the head answers only the labels it learned; the circumplex point follows its answer
    assert set(readings[0].emotions) == set(reader.emotions.names)
    assert readings[0].emotions["awe"] == 0.0
    assert readings[0].valence > readings[1].valence

    # without the head (pinned off) the colour reader says something else for these colours
    off, _ = build_reader(encoder, INFO, settings_for(tmp_path / "home", head_emotion="none"))
    assert off.trained == {}
    plain = off.read([warm, dark], encoder.embed_images([warm, dark]))
    assert [r.top_emotion for r in plain] != ["amusement", "sadness"]

    # eval reports on the heads in use, and warns that these were the training pictures
    evaluation = evaluate(learnable, None, TrainingRun(settings, encoder="colour"))
    assert evaluation["task"] == "emotion" and evaluation["head"]["kind"] == "trained"
    assert evaluation["accuracy"] > evaluation["baseline"]["accuracy"]
    assert "trained on" in evaluation["warning"]


def test_random_labels_are_not_activated(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "random", random_labels=True)
    settings = settings_for(tmp_path / "home")
    result = train_head(folder, "emotion", TrainingRun(settings, encoder="colour"))
    assert not result.report["passed"] and not result.report["activated"]
    assert "NOT activated" in result.report["verdict"]
    assert result.path.exists()  # kept for the record, never picked
    assert select_head(settings.heads_dir, "colour-v1", "emotion", ColourEncoder.dim) == (None, [])
    reader, _ = build_reader(ColourEncoder(), INFO, settings)
    assert reader.trained == {}


def test_train_and_eval_commands(
    learnable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--images", str(learnable), "--task", "emotion", "--encoder", "colour"])
    out = capsys.readouterr().out
    assert code == 0
    assert "majority (amusement)" in out and "activated" in out and "confusion matrix" in out
    code = main(["eval", "--images", str(learnable), "--encoder", "colour", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["head"]["kind"] == "trained"
    assert main(["train", "--images", str(learnable)]) == 2
    assert "--task" in capsys.readouterr().err
    assert main(["train"]) == 2


def test_the_pipeline_uses_the_new_head(
    learnable: Path, spotify_catalog: Path, tmp_path: Path
) -> None:
    assert SPOTIFY_CSV.exists()
    settings = settings_for(tmp_path / "home", catalog_dir=spotify_catalog)
    before = build_pipeline(settings, encoder="colour")
    assert before.reader.head_info()["emotion"] == {"kind": "colour"}
    train_head(learnable, "emotion", TrainingRun(settings, encoder="colour"))
    after = build_pipeline(settings, encoder="colour")
    assert after.reader.head_info()["emotion"]["kind"] == "trained"
    image = LoadedImage.from_array(picture(True, np.random.default_rng(5)))
    rec = after.recommend([image], RecommendOptions(k=5))[0]
    assert rec.reading.top_emotion == "amusement" and len(rec.tracks) == 5
