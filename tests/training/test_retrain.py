"""Retraining by itself: feedback likes on kept pictures become pairs; the scheduler retrains
once the threshold of new pairs is reached (not before, and not twice on the same data),
rollback restores the previous head, and the server's job runs off the event loop."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.feature_synth import picture_for, write_synthetic_set
from tunelens.catalogue.models import Track
from tunelens.cli.app import main
from tunelens.core.settings import Settings, get_settings
from tunelens.heads.store import active_version, rollback, task_dir
from tunelens.storage import repository as repo
from tunelens.storage.db import Database, Prediction, new_id
from tunelens.storage.uploads import UploadService
from tunelens.training.features import FeatureFit, train_features
from tunelens.training.pairs import PairSources
from tunelens.training.retrain import (
    Retrainer,
    RetrainOptions,
    RetrainOutcome,
    last_head_cutoff,
    watch,
)
from tunelens.training.run import TrainingRun
from tunelens.web.services.data_loop import DataLoop


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, list[Track]]:
    """(full pairs CSV, a small one, catalogue dir, tracks)."""
    root = tmp_path_factory.mktemp("retrain-set")
    full, catalog, tracks = write_synthetic_set(root, tracks=300, paired=160)
    lines = full.read_text().splitlines()
    small = root / "small.csv"
    small.write_text("\n".join(lines[:41]) + "\n")  # header + 40 pairs
    return full, small, catalog, tracks


def settings_for(home: Path, catalog: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=home / "data",
        cache_dir=home / "cache",
        allow_download=False,
        encoder="colour",
        catalog_dir=catalog,
    )


class Listener:
    """Keeps pictures with consent and likes the song each picture was made from."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.db = db
        self.uploads = UploadService.from_settings(settings, db)
        self.rng = np.random.default_rng(11)

    def like(self, track: Track) -> None:
        buffer = io.BytesIO()
        picture = picture_for(track.features["valence"], track.features["energy"], self.rng)
        Image.fromarray(picture).save(buffer, format="PNG")
        kept = self.uploads.keep(buffer.getvalue(), consent=True)
        assert kept.status == "stored"
        prediction = new_id()
        with self.db.write() as session:
            session.add(
                Prediction(
                    id=prediction,
                    image_sha256=kept.sha256,
                    encoder="colour",
                    top_emotion="amusement",
                    valence=0.0,
                    arousal=0.0,
                    reading={},
                )
            )
        repo.record_feedback(self.db, track_id=track.id, kind="like", prediction_id=prediction)

    def decline_and_like(self, track: Track) -> None:
        """A like on a picture that was NOT kept: never a pair."""
        prediction = new_id()
        with self.db.write() as session:
            session.add(
                Prediction(
                    id=prediction,
                    image_sha256="0" * 64,
                    encoder="colour",
                    top_emotion="fear",
                    valence=0.0,
                    arousal=0.0,
                    reading={},
                )
            )
        repo.record_feedback(self.db, track_id=track.id, kind="like", prediction_id=prediction)


def test_retrains_once_after_the_threshold_and_rollback_restores(
    tmp_path: Path, synthetic: tuple[Path, Path, Path, list[Track]]
) -> None:
    full, small, catalog, tracks = synthetic
    settings = settings_for(tmp_path, catalog)
    folder = task_dir(settings.heads_dir, "colour-v1", "features")
    first = train_features(
        PairSources(pairs_csv=small), FeatureFit(), TrainingRun(settings, encoder="colour")
    )
    before = active_version(folder)
    assert before == (first.path.name if first.activated else None)
    assert last_head_cutoff(settings.heads_dir, "colour-v1") is not None

    db = Database.from_settings(settings)
    listener = Listener(settings, db)
    retrainer = Retrainer(settings, db, RetrainOptions(threshold=5, pairs_csv=full))
    for track in tracks[200:204]:
        listener.like(track)
    listener.decline_and_like(tracks[204])
    waiting = retrainer.check()
    assert waiting.status == "waiting" and waiting.new_pairs == 4
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 1  # nothing trained yet

    listener.like(tracks[205])
    trained = retrainer.check()
    assert trained.status == "trained" and trained.new_pairs == 5, trained.message
    report = json.loads((folder / str(trained.version) / "report.json").read_text())
    assert report["pairs"]["sources"]["feedback_likes"] == 5
    assert report["pairs"]["used"] == 165
    # better than the small head on the same held-out pictures: activated
    assert trained.activated and active_version(folder) == trained.version
    assert report["comparison"]["active"] == before

    again = retrainer.check()  # the same data never triggers a second retrain
    assert again.status == "waiting" and again.new_pairs == 0
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 2

    assert rollback(folder) == (trained.version, before)
    assert active_version(folder) == before
    db.dispose()


def test_retrain_command_and_server_job(
    synthetic: tuple[Path, Path, Path, list[Track]], capsys: pytest.CaptureFixture[str]
) -> None:
    full, _, catalog, tracks = synthetic
    settings = get_settings()
    db = Database.from_settings(settings)
    listener = Listener(settings, db)
    for track in tracks[200:203]:
        listener.like(track)
    args = ["--pairs", str(full), "--catalog", str(catalog), "--encoder", "colour", "--json"]
    assert main(["retrain", "--threshold", "4", *args]) == 0  # one check: below the threshold
    assert json.loads(capsys.readouterr().out)["status"] == "waiting"
    code = main(
        ["retrain", "--watch", "--interval", "0", "--max-checks", "2", "--threshold", "3", *args]
    )
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["status"] for line in lines] == ["trained", "waiting"]
    assert lines[0]["activated"] and lines[1]["new_pairs"] == 0

    # the server job: off by default; when on, each check runs in a worker thread
    async def scenario(config: Settings) -> tuple[DataLoop, int, object]:
        loop = DataLoop(config)
        await loop.start()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        outcome = await loop.retrain.run_once() if loop.retrain is not None else None
        task.cancel()
        await loop.stop()
        return loop, ticks, outcome

    off, _, _ = asyncio.run(scenario(settings))
    assert off.retrain is None and "retrain" not in off.health()
    listener.like(tracks[210])
    on_settings = settings.model_copy(
        update={
            "retrain_interval_s": 3600.0,
            "retrain_threshold": 1,
            "retrain_pairs": full,
            "catalog_dir": catalog,
            "encoder": "colour",
        }
    )
    on, ticks, outcome = asyncio.run(scenario(on_settings))
    assert isinstance(outcome, RetrainOutcome) and outcome.status == "trained"
    assert ticks > 0  # the event loop kept running while the head was trained
    health = on.health()["retrain"]
    assert health["interval_s"] == 3600.0 and health["last"]["status"] == "trained"
    db.dispose()


def test_a_second_process_waits_and_a_failing_check_does_not_stop_the_watch(
    tmp_path: Path, synthetic: tuple[Path, Path, Path, list[Track]]
) -> None:
    """Server workers and the CLI share one retrain at a time (a file lock, held here through
    a second open file as another process would); a check that fails (the database went
    away) is reported and the watch goes on."""
    import fcntl

    _, _, catalog, _ = synthetic
    settings = settings_for(tmp_path, catalog)
    db = Database.from_settings(settings)
    retrainer = Retrainer(settings, db, RetrainOptions(threshold=5))
    settings.heads_dir.mkdir(parents=True, exist_ok=True)
    with (settings.heads_dir / ".retrain.lock").open("a+b") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        assert retrainer.check().status == "busy"
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
    assert retrainer.check().status == "waiting"

    db.dispose()
    (settings.data_dir / "tunelens.db").unlink(missing_ok=True)
    (settings.data_dir / "tunelens.db").mkdir()  # the database file cannot be opened now
    broken = Retrainer(settings, Database(f"sqlite:///{settings.data_dir / 'tunelens.db'}"))
    outcomes = watch(broken, interval_s=0, max_checks=2, sleep=lambda _: None)
    assert [o.status for o in outcomes] == ["error", "error"]
