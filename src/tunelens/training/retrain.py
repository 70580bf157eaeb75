"""Retraining by itself: retrain the feature head when enough new paired data has arrived.

New data are **feedback pairs**: likes of songs shown for a picture its owner agreed to keep
(a consented, stored upload — the only pictures tunelens may learn from). The scheduler counts
those recorded after the newest feature head's data (its ``data_until``, else its creation
time); once there are at least ``threshold`` (``TUNELENS_RETRAIN_THRESHOLD``) it trains a new
head on all feedback pairs plus the curated pairs file (``TUNELENS_RETRAIN_PAIRS``, optional),
and :func:`tunelens.training.features.train_features` evaluates it and activates it only when
it beats its baselines and the active head. Every head is kept, so ``tunelens heads
rollback`` can undo an activation. Because a new head — activated or not — moves the cutoff,
the same data never triggers a second retrain.

Two drivers: ``tunelens retrain [--watch]`` (one check, or a check every ``--interval``
seconds), and the server's background job (:class:`RetrainJob`, off by default; on with
``TUNELENS_RETRAIN_INTERVAL_S`` > 0), which runs each check in a worker thread so requests
are never blocked, and whose activations the running engine picks up by itself (see
:class:`tunelens.heads.serving.FeatureHeadSlot`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread

from tunelens.core.atomic import folder_lock
from tunelens.core.errors import TunelensError
from tunelens.core.settings import EncoderChoice, Settings
from tunelens.heads.feature import HeadModel, read_meta
from tunelens.heads.store import FEATURE_TASK, task_dir, versions
from tunelens.heads.transformer import TransformerConfig
from tunelens.storage.db import Database
from tunelens.training.features import FeatureFit, train_features
from tunelens.training.pairs import PairSources, count_feedback_pairs
from tunelens.training.run import Progress, TrainingRun
from tunelens.vision.base import Encoder

log = logging.getLogger("tunelens.training.retrain")


@dataclass
class RetrainOutcome:
    """What one check did: ``waiting`` (below the threshold), ``trained``, ``error``, or
    ``busy`` (another process is retraining)."""

    status: str
    new_pairs: int = 0
    threshold: int = 0
    since: str | None = None
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: str | None = None
    activated: bool = False
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def last_head_cutoff(heads_dir: Path, model_id: str) -> datetime | None:
    """When the newest feature head's data ends: its ``data_until``, else its creation time
    (None when this encoder has no feature head yet: every feedback pair counts)."""
    for directory in versions(task_dir(heads_dir, model_id, FEATURE_TASK)):
        try:
            meta, report = read_meta(directory)
        except ValueError:
            continue
        stamp = meta.get("data_until") or report.get("created_at")
        if stamp:
            try:
                moment = datetime.fromisoformat(str(stamp))
            except ValueError:
                log.warning("ignoring head %s: unreadable data_until %r", directory.name, stamp)
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class RetrainOptions:
    """How a retrain check trains; None everywhere means "as the settings say"
    (``TUNELENS_RETRAIN_THRESHOLD``, ``_HEAD``, ``_PAIRS``, the encoder and catalogue)."""

    threshold: int | None = None
    head: HeadModel | None = None
    pairs_csv: Path | None = None
    encoder: EncoderChoice | None = None
    catalog_dir: Path | None = None
    transformer: TransformerConfig | None = None
    progress: Progress | None = None


class Retrainer:
    """One encoder's retrain check, reused by the CLI watch loop and the server job."""

    def __init__(
        self, settings: Settings, db: Database, options: RetrainOptions | None = None
    ) -> None:
        options = options or RetrainOptions()
        self.settings = settings
        self.db = db
        self.threshold = (
            options.threshold if options.threshold is not None else settings.retrain_threshold
        )
        self.head: HeadModel = options.head or settings.retrain_head
        self.pairs_csv = (
            options.pairs_csv if options.pairs_csv is not None else settings.retrain_pairs
        )
        self.encoder_choice: EncoderChoice = options.encoder or settings.encoder
        self.catalog_dir = options.catalog_dir
        self.transformer = options.transformer
        self.progress = options.progress
        self._model: Encoder | None = None
        self._lock = threading.Lock()
        if self.threshold < 1:
            raise ValueError("the retrain threshold must be at least 1")

    def model(self) -> Encoder:
        if self._model is None:
            run = TrainingRun(self.settings, encoder=self.encoder_choice)
            self._model, notices = run.load_encoder()
            for notice in notices:
                log.warning("retrain: %s", notice)
        return self._model

    def pending(self) -> tuple[int, datetime | None]:
        """(new feedback pairs since the newest head's data, that cutoff)."""
        since = last_head_cutoff(self.settings.heads_dir, self.model().model_id)
        return count_feedback_pairs(self.db, since), since

    def check(self) -> RetrainOutcome:
        """Retrain once if the threshold is reached; never raises for data problems."""
        lock_dir = self.settings.heads_dir
        # one retrain at a time per process (thread lock) and across the server's worker
        # processes and the CLI watch (file lock): N workers must not train N heads at once
        with self._lock, folder_lock(lock_dir, ".retrain.lock", blocking=False) as mine:
            if not mine:
                return RetrainOutcome(
                    status="busy",
                    threshold=self.threshold,
                    message="another process is retraining right now",
                )
            return self._check_locked()

    def _check_locked(self) -> RetrainOutcome:
        try:
            new, since = self.pending()
        except Exception as exc:  # the database is away: report, try again next time
            log.warning("retrain check failed: %s", exc)
            return RetrainOutcome(
                status="error", threshold=self.threshold, message=f"check failed: {exc}"
            )
        outcome = RetrainOutcome(
            status="waiting",
            new_pairs=new,
            threshold=self.threshold,
            since=since.isoformat(timespec="seconds") if since else None,
        )
        if new < self.threshold:
            outcome.message = f"{new} new feedback pairs; retraining at {self.threshold}"
            return outcome
        try:
            result = train_features(
                PairSources(pairs_csv=self.pairs_csv, db=self.db, catalog_dir=self.catalog_dir),
                FeatureFit(head=self.head, transformer=self.transformer),
                TrainingRun(self.settings, progress=self.progress, loaded=self.model()),
            )
        except TunelensError as exc:
            outcome.status = "error"
            outcome.message = f"{exc.message} [{exc.code}]"
            log.warning("retrain failed: %s", outcome.message)
            return outcome
        outcome.status = "trained"
        outcome.version = result.path.name
        outcome.activated = result.activated
        outcome.message = result.report["verdict"]
        log.info(
            "retrained feature head %s on %d new pairs: %s",
            outcome.version,
            new,
            outcome.message,
        )
        return outcome


def watch(
    retrainer: Retrainer,
    *,
    interval_s: float,
    max_checks: int | None = None,
    on_outcome: Callable[[RetrainOutcome], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RetrainOutcome]:
    """Check, then sleep ``interval_s``, forever (or ``max_checks`` times)."""
    outcomes: list[RetrainOutcome] = []
    while max_checks is None or len(outcomes) < max_checks:
        try:
            outcome = retrainer.check()
        except Exception as exc:  # a watch daemon must outlive one bad round
            log.exception("retrain check failed")
            outcome = RetrainOutcome(
                status="error", threshold=retrainer.threshold, message=f"check failed: {exc}"
            )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
        if max_checks is not None and len(outcomes) >= max_checks:
            break
        sleep(interval_s)
    return outcomes


class RetrainJob:
    """The server's background retrain job: a check every ``interval_s`` in a worker thread."""

    def __init__(self, retrainer: Retrainer, interval_s: float) -> None:
        self.retrainer = retrainer
        self.interval_s = interval_s
        self.last: RetrainOutcome | None = None
        self.running = False

    async def run_once(self) -> RetrainOutcome | None:
        """One check off the event loop; failures are logged, never raised."""
        self.running = True
        try:
            # abandon_on_cancel: a shutdown does not wait for a training run; its staging
            # directory is only renamed into place when complete, so nothing half-made is used
            self.last = await anyio.to_thread.run_sync(self.retrainer.check, abandon_on_cancel=True)
        except Exception:
            log.exception("retrain check failed; trying again at the next interval")
        finally:
            self.running = False
        return self.last

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.run_once()

    def health(self) -> dict[str, Any]:
        return {
            "interval_s": self.interval_s,
            "threshold": self.retrainer.threshold,
            "head": self.retrainer.head,
            "running": self.running,
            "last": self.last.to_dict() if self.last else None,
        }
