"""The learned audio-feature head, trained: ridge and transformer heads on a synthetic set
whose features are visible in the pictures (colour encoder), the honest report and its gate,
ONNX export, serving with a blend, and ``tunelens train features`` errors.

The colour encoder is used because its embedding *is* brightness and chroma, the properties
the synthetic songs' valence and energy were drawn into; numbers here are plumbing checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.feature_synth import picture_for, write_synthetic_set
from tests.labelled_pictures import settings_for
from tunelens.cli.app import main
from tunelens.core.settings import Settings
from tunelens.heads.feature import load_feature_head
from tunelens.heads.serving import FeatureHeadSlot
from tunelens.heads.store import active_version, task_dir
from tunelens.heads.transformer import TransformerConfig
from tunelens.pipeline import RecommendOptions, build_pipeline
from tunelens.training.features import FeatureFit, train_features
from tunelens.training.pairs import PairSources
from tunelens.training.run import TrainingRun
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(learnable pairs CSV, shuffled pairs CSV, catalogue dir), built once for the module."""
    root = tmp_path_factory.mktemp("synthetic")
    learnable, catalog, _ = write_synthetic_set(root, tracks=300, paired=200)
    shuffled, _, _ = write_synthetic_set(root, tracks=300, paired=200, shuffle=True, name="s.csv")
    return learnable, shuffled, catalog


def features_dir(settings: Settings) -> Path:
    return task_dir(settings.heads_dir, ColourEncoder.model_id, "features")


def test_ridge_head_beats_its_baselines_and_serves(
    tmp_path: Path, synthetic: tuple[Path, Path, Path]
) -> None:
    learnable, _, catalog = synthetic
    settings = settings_for(tmp_path, catalog_dir=catalog, feature_head_blend=1.0)
    result = train_features(
        PairSources(pairs_csv=learnable),
        FeatureFit(head="ridge"),
        TrainingRun(settings, encoder="colour"),
    )
    report = result.report
    held = report["held_out"]
    assert report["split"]["held_out_images"] == 50 and report["split"]["by"].startswith("picture")
    assert held["mse_mean"] < held["baseline_mse_mean"] and held["sign_test_p"] < 0.05
    for name in ("valence", "energy", "loudness", "tempo", "acousticness"):
        row = held["per_feature"][name]
        assert row["r2"] > 0.5 and row["mse"] < row["baseline_mse"], name
        assert row["baseline_r2"] <= 0.01  # the training mean explains nothing
    # mode is a coin flip in the synthetic songs: nothing to learn, and the report shows it
    assert held["per_feature"]["mode"]["r2"] < 0.05
    emotions = report["emotions"]
    assert emotions["accuracy"] > emotions["baseline"]["accuracy"]
    assert emotions["macro_f1"] > emotions["baseline"]["macro_f1"]
    retrieval = report["retrieval"]
    assert retrieval["head"]["hit_at_50"] > retrieval["chance"]["hit_at_50"]
    assert set(retrieval) >= {"head", "mapping", "blend", "chance"}
    assert report["passed"] and result.activated and "activated" in report["verdict"]
    # saved with its metadata and report, and active
    meta = json.loads((result.path / "head.json").read_text())
    assert meta["encoder"] == {
        "name": "colour",
        "model_id": "colour-v1",
        "dim": 14,
        "pretrained": False,
    }
    assert json.loads((result.path / "report.json").read_text())["passed"] is True
    assert active_version(features_dir(settings)) == result.path.name

    # serving: the pipeline blends the head's features into the target (blend 1 = head only)
    pipeline = build_pipeline(settings, encoder="colour")
    info = pipeline.head_info()["features"]
    assert info["kind"] == "learned" and info["active"] == result.path.name
    assert info["figures"]["mse"] == held["mse_mean"]
    rng = np.random.default_rng(5)
    bright = LoadedImage.from_array(picture_for(0.9, 0.5, rng))
    dark = LoadedImage.from_array(picture_for(0.1, 0.5, rng))
    recs = pipeline.recommend([bright, dark], RecommendOptions(k=5))
    assert recs[0].target.features["valence"] > 0.7
    assert recs[1].target.features["valence"] < 0.3
    head = load_feature_head(result.path)
    predicted, _ = head.predict(pipeline.encoder.embed_images([bright]))
    assert recs[0].target.features["valence"] == pytest.approx(float(predicted[0, 0]), abs=1e-3)
    # blend 0: the documented mapping alone
    plain = build_pipeline(
        settings_for(tmp_path, catalog_dir=catalog, feature_head_blend=0.0), encoder="colour"
    )
    mapped = plain.recommend([bright], RecommendOptions(k=5))[0]
    assert mapped.target.features["valence"] != recs[0].target.features["valence"]
    assert plain.head_info()["features"]["kind"] == "mapping"


def test_shuffled_pairs_are_refused(tmp_path: Path, synthetic: tuple[Path, Path, Path]) -> None:
    _, shuffled, catalog = synthetic
    settings = settings_for(tmp_path, catalog_dir=catalog)
    result = train_features(
        PairSources(pairs_csv=shuffled),
        FeatureFit(head="ridge"),
        TrainingRun(settings, encoder="colour"),
    )
    report = result.report
    assert not report["passed"] and not result.activated
    assert "NOT activated" in report["verdict"]
    assert report["held_out"]["sign_test_p"] >= 0.05
    assert result.path.exists()  # kept for the record
    assert active_version(features_dir(settings)) is None
    slot = FeatureHeadSlot(settings.heads_dir, "colour-v1", 14, blend=0.5)
    assert slot.head is None and slot.describe()["kind"] == "mapping"


def test_transformer_head_beats_baseline_and_its_onnx_agrees(
    tmp_path: Path, synthetic: tuple[Path, Path, Path]
) -> None:
    pytest.importorskip("torch", reason="needs the torch extra")
    learnable, _, catalog = synthetic
    settings = settings_for(tmp_path, catalog_dir=catalog)
    result = train_features(
        PairSources(pairs_csv=learnable),
        FeatureFit(head="transformer", transformer=TransformerConfig(epochs=80)),
        TrainingRun(settings, encoder="colour"),
    )
    report = result.report
    held = report["held_out"]
    assert held["mse_mean"] < held["baseline_mse_mean"]
    assert held["per_feature"]["valence"]["r2"] > 0.5
    assert report["emotions"]["accuracy"] > report["emotions"]["baseline"]["accuracy"]
    assert report["passed"] and result.activated
    assert report["onnx"]["max_abs_diff_features"] < 1e-3
    assert report["onnx"]["max_abs_diff_emotions"] < 1e-4
    assert (result.path / "model.onnx").exists()
    assert json.loads((result.path / "head.json").read_text())["config"]["label_smoothing"] == 0.1
    # the same agreement against a fresh torch model: tests/heads/test_transformer.py


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "features"]) == 2
    assert "--pairs" in capsys.readouterr().err
    assert (
        main(["train", "features", "--pairs", str(tmp_path / "none.csv"), "--encoder", "colour"])
        == 1
    )
    assert "not a pairs CSV" in capsys.readouterr().err
    (tmp_path / "few.csv").write_text("image,valence\n")
    assert (
        main(
            [
                "train",
                "features",
                "--pairs",
                str(tmp_path / "few.csv"),
                "--encoder",
                "colour",
                "--head",
                "forest",
            ]
        )
        == 2
    )
    assert main(["heads", "rollback"]) == 1
    assert "No saved heads match" in capsys.readouterr().err
