"""Retraining: linear heads from labelled folders (colour encoder, synthetic pictures with a
learnable colour signal), head selection by the engine, ``tunelens train/eval``, and the
feedback prior's strength fitted on stored votes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import SPOTIFY_CSV
from tunelens.cli.app import main
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings, get_settings
from tunelens.core.types import EncoderInfo
from tunelens.heads.linear import LinearHead, head_versions, select_head
from tunelens.pipeline import Engine, build_reader
from tunelens.recommend.feedback import PRIOR_STRENGTH, FeedbackEffects
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.storage.repository import Votes
from tunelens.training.linear import (
    binomial_tail,
    evaluate,
    fit_prior_strength,
    load_prior_strength,
    scan_folder,
    train_from_feedback,
    train_head,
)
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.imaging import LoadedImage

INFO = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")


def _picture(warm: bool, rng: np.random.Generator, size: int = 40) -> np.ndarray:
    """A warm bright picture or a dark blue one, with noise so no two are alike."""
    base = np.array([230, 170, 60]) if warm else np.array([20, 40, 110])
    base = base + rng.normal(0, 18, 3)
    return np.clip(base + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)


def labelled_folder(root: Path, *, n: int = 14, random_labels: bool = False) -> Path:
    """``n`` warm bright pictures labelled amusement and ``n`` dark blue ones labelled sadness
    (or, with ``random_labels``, the same pictures with coin-flip labels)."""
    rng = np.random.default_rng(7)
    for i in range(2 * n):
        warm = i % 2 == 0
        label = "amusement" if warm else "sadness"
        if random_labels:
            label = ("amusement", "sadness")[int(rng.integers(2))]
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_picture(warm, rng)).save(folder / f"p{i:03d}.png")
    return root


def settings_for(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": home / "data",
        "cache_dir": home / "cache",
        "allow_download": False,
        "encoder": "colour",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def learnable(tmp_path: Path) -> Path:
    return labelled_folder(tmp_path / "learnable")


def test_learnable_folder_beats_baseline_and_the_reader_uses_the_head(
    learnable: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "home")
    result = train_head(learnable, "emotion", settings=settings, encoder="colour")
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
    assert head_versions(settings.heads_dir, "colour-v1", "emotion") == [result.path]

    encoder = ColourEncoder()
    reader, notices = build_reader(encoder, INFO, settings)
    assert notices == [] and reader.trained["emotion"].version == result.path.name
    assert reader.head_info()["emotion"]["kind"] == "trained"
    assert reader.head_info()["genre"] == {"kind": "colour"}
    rng = np.random.default_rng(99)
    warm = LoadedImage.from_array(_picture(True, rng))
    dark = LoadedImage.from_array(_picture(False, rng))
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
    evaluation = evaluate(learnable, settings=settings, encoder="colour")
    assert evaluation["task"] == "emotion" and evaluation["head"]["kind"] == "trained"
    assert evaluation["accuracy"] > evaluation["baseline"]["accuracy"]
    assert "trained on" in evaluation["warning"]


def test_random_labels_are_not_activated(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "random", random_labels=True)
    settings = settings_for(tmp_path / "home")
    result = train_head(folder, "emotion", settings=settings, encoder="colour")
    assert not result.report["passed"] and not result.report["activated"]
    assert "NOT activated" in result.report["verdict"]
    assert result.path.exists()  # kept for the record, never picked
    assert select_head(settings.heads_dir, "colour-v1", "emotion", ColourEncoder.dim) == (None, [])
    reader, _ = build_reader(ColourEncoder(), INFO, settings)
    assert reader.trained == {}


def test_pinned_versions_and_newest_passing_wins(learnable: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    first = train_head(learnable, "emotion", settings=settings, encoder="colour")
    second = train_head(learnable, "emotion", settings=settings, encoder="colour")
    assert second.path.name > first.path.name  # same second → "-2" suffix
    dim = ColourEncoder.dim
    head, _ = select_head(settings.heads_dir, "colour-v1", "emotion", dim)
    assert head is not None and head.version == second.path.name
    pinned, notices = select_head(settings.heads_dir, "colour-v1", "emotion", dim, first.path.name)
    assert pinned is not None and pinned.version == first.path.name and notices == []
    missing, notices = select_head(settings.heads_dir, "colour-v1", "emotion", dim, "nope")
    assert missing is None and "cannot be used" in notices[0]
    wrong, notices = select_head(settings.heads_dir, "colour-v1", "emotion", 512)
    assert wrong is None  # trained for another width: never used


def test_linear_head_round_trip_and_binary_form(tmp_path: Path) -> None:
    head = LinearHead(
        task="genre",
        model_id="m",
        classes=["jazz", "rock"],
        weights=np.array([[2.0, 0.0]], dtype=np.float32),
        bias=np.array([0.0], dtype=np.float32),
        report={"passed": True},
    )
    head.save(tmp_path / "v1")
    loaded = LinearHead.load(tmp_path / "v1")
    from tunelens.core import vocab

    p = loaded.probabilities(np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32), vocab.genres())
    rock, jazz = vocab.genres().names.index("rock"), vocab.genres().names.index("jazz")
    assert p[0, rock] > 0.85 and p[1, jazz] > 0.85
    assert np.allclose(p.sum(axis=1), 1.0)


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "f" / "happy").mkdir(parents=True)
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "f", "emotion")
    assert info.value.code == "unknown_label" and "happy" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "missing", "emotion")
    assert info.value.code == "images_dir_missing"
    one = tmp_path / "one" / "awe"
    one.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(one / "a.png")
    with pytest.raises(InvalidRequest) as info:
        scan_folder(tmp_path / "one", "emotion")
    assert info.value.code == "too_few_labels"


def test_binomial_tail() -> None:
    assert binomial_tail(0, 10, 0.5) == 1.0
    assert binomial_tail(10, 10, 0.5) == pytest.approx(1 / 1024)
    assert binomial_tail(6, 10, 0.5) == pytest.approx(386 / 1024)


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


def test_engine_uses_the_new_head(learnable: Path, spotify_catalog: Path, tmp_path: Path) -> None:
    assert SPOTIFY_CSV.exists()
    settings = settings_for(tmp_path / "home", catalog_dir=spotify_catalog)
    before = Engine.load(settings, encoder="colour")
    assert before.reader.head_info()["emotion"] == {"kind": "colour"}
    train_head(learnable, "emotion", settings=settings, encoder="colour")
    after = Engine.load(settings, encoder="colour")
    assert after.reader.head_info()["emotion"]["kind"] == "trained"
    picture = LoadedImage.from_array(_picture(True, np.random.default_rng(5)))
    rec = after.recommend_images([picture], k=5)[0]
    assert rec.reading.top_emotion == "amusement" and len(rec.tracks) == 5


# --------------------------------------------------------------------------- feedback prior


def _votes(probabilities: list[float], voters: int, seed: int = 0) -> dict[str, Votes]:
    rng = np.random.default_rng(seed)
    out = {}
    for i, p in enumerate(probabilities):
        likes = int(rng.binomial(voters, p))
        out[f"t{i}"] = Votes(likes=likes, dislikes=voters - likes)
    return out


def test_prior_strength_fit() -> None:
    # songs people clearly agree on: a weak prior (small m) predicts held-out votes best
    polarised = fit_prior_strength(_votes([0.1, 0.9] * 15, voters=6))
    assert polarised["passed"] and polarised["prior_strength"] < PRIOR_STRENGTH
    ll = polarised["mean_log_likelihood"]
    assert ll["fitted"] >= ll["default"] and ll["fitted"] > ll["no_prior"]
    # coin-flip votes: no per-song prior beats 50 %, nothing is saved
    noise = fit_prior_strength(_votes([0.5] * 30, voters=6, seed=1))
    assert not noise["passed"] and noise["prior_strength"] == PRIOR_STRENGTH
    # too few votes on songs with two or more voters: says so
    few = fit_prior_strength({"a": Votes(likes=1), "b": Votes(likes=1, dislikes=1)})
    assert not few["passed"] and "not enough" in few["verdict"]


def test_train_from_feedback_saves_where_feedback_effects_read(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    db = Database.from_settings(settings)
    rng = np.random.default_rng(3)
    for track in range(12):
        p = 0.9 if track % 2 else 0.1
        for voter in range(5):
            kind = "like" if rng.random() < p else "dislike"
            repo.record_feedback(db, track_id=f"t{track}", kind=kind, client_id=f"c{voter}")
    report = train_from_feedback(db, settings)
    assert report["passed"] and report["votes"] == 60
    strength, version = load_prior_strength(settings)
    assert strength == report["prior_strength"] and version == report["version"]
    effects = FeedbackEffects.from_settings(db, settings)
    assert effects.prior_strength == strength
    db.dispose()


def test_train_from_feedback_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--from-feedback"]) == 0
    out = capsys.readouterr().out
    assert "not enough" in out
    assert load_prior_strength(get_settings()) == (None, None)
