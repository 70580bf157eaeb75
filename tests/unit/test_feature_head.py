"""The learned audio-feature head: paired data validation, ridge and transformer heads on a
synthetic set whose features are visible in the pictures (colour encoder), the honest report
and its gate, ONNX export, serving with a blend, and ``tunelens heads``.

The colour encoder is used because its embedding *is* brightness and chroma, the properties
the synthetic songs' valence and energy were drawn into; numbers here are plumbing checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.feature_synth import picture_for, write_synthetic_set
from tunelens.cli.app import main
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings
from tunelens.heads.feature import load_feature_head, transformer_config
from tunelens.heads.linear import task_dir
from tunelens.heads.store import FeatureHeadSlot, active_version
from tunelens.pipeline import Engine
from tunelens.training.features import train_features
from tunelens.training.pairs import build_pairs
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage


def settings_for(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": home / "data",
        "cache_dir": home / "cache",
        "allow_download": False,
        "encoder": "colour",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(learnable pairs CSV, shuffled pairs CSV, catalogue dir), built once for the module."""
    root = tmp_path_factory.mktemp("synthetic")
    learnable, catalog, _ = write_synthetic_set(root, tracks=300, paired=200)
    shuffled, _, _ = write_synthetic_set(root, tracks=300, paired=200, shuffle=True, name="s.csv")
    return learnable, shuffled, catalog


def features_dir(settings: Settings) -> Path:
    return task_dir(settings.heads_dir, ColourEncoder.model_id, "features")


def test_pairs_are_validated_row_by_row(tmp_path: Path, synthetic: tuple[Path, Path, Path]) -> None:
    _, _, catalog = synthetic
    from tunelens.catalogue.index import CatalogueIndex

    index = CatalogueIndex.load(catalog)
    Image.fromarray(picture_for(0.8, 0.2, np.random.default_rng(0))).save(tmp_path / "a.png")
    (tmp_path / "notes.png").write_text("not a picture")
    full = "0.5,0.5,0.6,120,-8,0.3,0.1,1,0.05,0.2"
    cols = (
        "valence,energy,danceability,tempo,loudness,acousticness,instrumentalness,mode,"
        "speechiness,liveness"
    )
    (tmp_path / "pairs.csv").write_text(
        f"image,track_id,weight,emotion,{cols}\n"
        "a.png,t0001,,,,,,,,,,,,\n"  # line 2: fine
        "missing.png,t0001,,,,,,,,,,,,\n"  # line 3: no such picture
        "a.png,nope,,,,,,,,,,,,\n"  # line 4: unknown track
        "a.png,t0001,,,2.0,,,,,,,,,\n"  # line 5: valence out of range
        "a.png,t0001,-1,,,,,,,,,,,\n"  # line 6: bad weight
        "a.png,,,,,,,,,,,,,\n"  # line 7: no target
        f"a.png,,2,awe,{full}\n"  # line 8: explicit features, emotion given
        "notes.png,t0002,,,,,,,,,,,,\n"  # line 9: not a picture
        "a.png,,,,0.5,,,,,,,,,\n"  # line 10: explicit but incomplete
        ",t0001,,,,,,,,,,,,\n"  # line 11: empty image
        "a.png,t0001,,happy,,,,,,,,,,\n"  # line 12: unknown emotion
    )
    pairs = build_pairs(
        encoder=ColourEncoder(),
        settings=settings_for(tmp_path),
        catalogue=index.catalogue,
        pairs_csv=tmp_path / "pairs.csv",
    )
    assert pairs.rows == ["line 2", "line 8"]
    assert len(pairs.image_sha256) == 1  # one picture, read once
    assert pairs.emotions[1] == "awe" and pairs.weights.tolist() == [1.0, 2.0]
    assert pairs.targets[1][0] == pytest.approx(0.5)
    codes = {p["row"]: p["code"] for p in pairs.problems}
    assert codes == {
        "line 3": "image_missing",
        "line 4": "unknown_track",
        "line 5": "bad_value",
        "line 6": "bad_value",
        "line 7": "no_target",
        "line 9": "image_invalid",
        "line 10": "missing_features",
        "line 11": "image_missing",
        "line 12": "bad_value",
    }
    assert [p["row"] for p in pairs.problems][:3] == ["line 3", "line 4", "line 5"]
    (tmp_path / "bad.csv").write_text("picture,track\nx,y\n")
    with pytest.raises(InvalidRequest) as info:
        build_pairs(
            encoder=ColourEncoder(),
            settings=settings_for(tmp_path),
            catalogue=None,
            pairs_csv=tmp_path / "bad.csv",
        )
    assert info.value.code == "pairs_invalid" and "'image' column" in info.value.message


def test_ridge_head_beats_its_baselines_and_serves(
    tmp_path: Path, synthetic: tuple[Path, Path, Path]
) -> None:
    learnable, _, catalog = synthetic
    settings = settings_for(tmp_path, catalog_dir=catalog, feature_head_blend=1.0)
    result = train_features(pairs_csv=learnable, head="ridge", settings=settings, encoder="colour")
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

    # serving: the engine blends the head's features into the target (blend 1 = head only)
    engine = Engine.load(settings, encoder="colour")
    info = engine.head_info()["features"]
    assert info["kind"] == "learned" and info["active"] == result.path.name
    assert info["figures"]["mse"] == held["mse_mean"]
    rng = np.random.default_rng(5)
    bright = LoadedImage.from_array(picture_for(0.9, 0.5, rng))
    dark = LoadedImage.from_array(picture_for(0.1, 0.5, rng))
    recs = engine.recommend_images([bright, dark], k=5)
    assert recs[0].target.features["valence"] > 0.7
    assert recs[1].target.features["valence"] < 0.3
    head = load_feature_head(result.path)
    predicted, _ = head.predict(engine.encoder.embed_images([bright]))
    assert recs[0].target.features["valence"] == pytest.approx(float(predicted[0, 0]), abs=1e-3)
    # blend 0: the documented mapping alone
    plain = Engine.load(
        settings_for(tmp_path, catalog_dir=catalog, feature_head_blend=0.0), encoder="colour"
    )
    mapped = plain.recommend_images([bright], k=5)[0]
    assert mapped.target.features["valence"] != recs[0].target.features["valence"]
    assert plain.head_info()["features"]["kind"] == "mapping"


def test_shuffled_pairs_are_refused(tmp_path: Path, synthetic: tuple[Path, Path, Path]) -> None:
    _, shuffled, catalog = synthetic
    settings = settings_for(tmp_path, catalog_dir=catalog)
    result = train_features(pairs_csv=shuffled, head="ridge", settings=settings, encoder="colour")
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
        pairs_csv=learnable,
        head="transformer",
        settings=settings,
        encoder="colour",
        transformer=transformer_config(epochs=80),
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

    # the same agreement checked here, against a fresh torch model trained the same way
    from tunelens.heads.feature import OnnxHead, fit_transformer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 14)).astype(np.float32)
    y = np.stack([x[:, 0], x[:, 1] * 2 + 1], axis=1).astype(np.float32)
    meta = {"encoder": {"dim": 14}, "features": ["a", "b"], "emotions": ["p", "q"]}
    fit = fit_transformer(
        x,
        y,
        [int(v > 0) for v in x[:, 0]],
        2,
        np.ones(40, np.float32),
        meta,
        config=transformer_config(epochs=5),
    )
    fit.export(tmp_path / "m.onnx")
    onnx_f, onnx_e = OnnxHead(tmp_path / "m.onnx", meta).predict(x)
    torch_f, torch_e = fit.predict_torch(x)
    np.testing.assert_allclose(onnx_f, torch_f, atol=1e-4)
    np.testing.assert_allclose(onnx_e, torch_e, atol=1e-5)


def test_heads_commands_activate_rollback_and_encoder_mismatch(
    tmp_path: Path, synthetic: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    learnable, shuffled, catalog = synthetic
    args = ["--catalog", str(catalog), "--encoder", "colour"]
    assert main(["train", "features", "--pairs", str(learnable), *args]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "activated" in out and "retrieval over 300 songs" in out
    assert main(["train", "features", "--pairs", str(shuffled), *args, "--json"]) == 0
    refused = json.loads(capsys.readouterr().out)
    assert refused["passed"] is False
    assert main(["train", "features", "--pairs", str(learnable), *args, "--seed", "1"]) == 0
    capsys.readouterr()
    from tunelens.core.settings import get_settings

    folder = features_dir(get_settings())
    versions = sorted(p.name for p in folder.iterdir() if p.is_dir())
    first, bad, second = versions
    # the second learnable head beat the first on its own held-out pictures? either way the
    # active one is a passing head, and the refused one never is
    assert active_version(folder) in (first, second)
    assert main(["heads", "activate", second]) == 0
    assert second in capsys.readouterr().out
    assert main(["heads", "list", "--task", "features", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["version"] for r in rows if r["active"]] == [second]
    assert {r["version"]: r["passed"] for r in rows}[bad] is False
    # a head that did not pass is refused unless forced
    assert main(["heads", "activate", bad]) == 1
    assert "did not beat its baselines" in capsys.readouterr().err
    assert main(["heads", "activate", bad, "--force"]) == 0
    assert active_version(folder) == bad
    # rollback restores the previous head, then the one before
    assert main(["heads", "rollback"]) == 0
    assert active_version(folder) == second
    assert "→ " + second in capsys.readouterr().out.replace("\n", "")
    assert main(["heads", "activate", "nope"]) == 1
    assert "No saved heads match" in capsys.readouterr().err

    # a head is refused for an encoder it was not trained for (another id, another width)
    settings = get_settings()
    moved = settings.heads_dir / "clip-xyz" / "features"
    moved.mkdir(parents=True)
    (folder / second).rename(moved / second)
    (moved / "active.json").write_text(json.dumps({"version": second, "history": []}))
    slot = FeatureHeadSlot(settings.heads_dir, "clip-xyz", 14, blend=0.5)
    assert slot.head is None and "trained for encoder colour-v1" in slot.notices[0]


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


@pytest.mark.parametrize("damage", ["truncated weights", "head.json without its encoder"])
def test_a_damaged_head_falls_back_to_the_mapping(tmp_path: Path, damage: str) -> None:
    """A head whose files are damaged is refused with a notice; the engine keeps serving."""
    import tunelens.heads.feature as fh

    folder = tmp_path / "m" / "features" / "20240101T000000Z"
    folder.mkdir(parents=True)
    meta = {
        "kind": "features",
        "model": "ridge",
        "encoder": {"model_id": "m", "dim": 4},
        "features": ["valence"],
        "emotions": ["joy"],
    }
    np.savez(tmp_path / "w.npz", w=np.zeros((4, 1)))
    whole = (tmp_path / "w.npz").read_bytes()
    if damage == "truncated weights":
        (folder / fh.RIDGE_FILE).write_bytes(whole[: len(whole) // 2])
    else:
        (folder / fh.RIDGE_FILE).write_bytes(whole)
        del meta["encoder"]
    (folder / fh.META_FILE).write_text(json.dumps(meta))
    (folder / fh.REPORT_FILE).write_text(json.dumps({"passed": True}))
    with pytest.raises(ValueError, match="unreadable head"):
        load_feature_head(folder)
    slot = FeatureHeadSlot(tmp_path, "m", 4, blend=0.5)
    assert any("cannot be used" in notice for notice in slot.notices)
