"""The server's side of the data loop: the database, consented uploads and feedback effects.

Built at start-up by the app's lifespan (:meth:`DataLoop.start`): the database is migrated to
head and opened, the upload service and the feedback effects are built around it, and a
background task delivers the uploads outbox every ``outbox_flush_interval_s`` seconds.

If the database cannot be opened, start-up logs one clear line and goes on: ``/health`` shows
the reason, routes that need the database (feedback, admin) answer 503
``database_unavailable``, and recommendations keep working without being recorded. Every
``retry_s`` seconds a watch task tries again (and probes the blob store), so the service
recovers by itself when the database or the S3 endpoint comes back — no restart. All
database work runs in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

from tunelens.core.errors import TunelensError
from tunelens.core.settings import Settings
from tunelens.core.types import Recommendation
from tunelens.recommend.feedback import FeedbackEffects
from tunelens.recommend.preferences import Preferences
from tunelens.storage import repository as repo
from tunelens.storage.blobs import probe_blob_store
from tunelens.storage.db import Database
from tunelens.storage.errors import DatabaseUnavailable
from tunelens.storage.strip import StrippedImage
from tunelens.storage.uploads import UploadService
from tunelens.training.retrain import Retrainer, RetrainJob
from tunelens.web.schemas.recommend import UploadOut

log = logging.getLogger("tunelens.web")

T = TypeVar("T")


@dataclass
class DataLoop:
    """Database, uploads and feedback effects of one running app (any of them may be off)."""

    settings: Settings
    db: Database | None = None
    uploads: UploadService | None = None
    effects: FeedbackEffects | None = None
    error: TunelensError | None = None
    uploads_error: TunelensError | None = None
    #: the blob store did not answer the last probe (uploads then wait in the outbox)
    store_error: TunelensError | None = None
    started: bool = False
    #: seconds between attempts to reopen the database / probe the blob store (0: never)
    retry_s: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _watch: asyncio.Task[None] | None = field(default=None, repr=False)
    #: the background feature-head retrain job (``TUNELENS_RETRAIN_INTERVAL_S`` > 0; off by default)
    retrain: RetrainJob | None = field(default=None, repr=False)
    _retrain_task: asyncio.Task[None] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ life cycle

    def _open(self) -> None:
        """Migrate and open the database, then build uploads and effects (worker thread).

        The database is published last, so a route never sees it without its effects."""
        try:
            db = Database.from_settings(self.settings, migrate=True)
        except TunelensError as exc:
            self.error = exc
            return
        except Exception as exc:  # a driver bug or a broken install: still no crash loop
            self.error = DatabaseUnavailable(
                f"The database failed to open ({type(exc).__name__}: {exc}).",
                code="database_unavailable",
            )
            return
        self.effects = FeedbackEffects.from_settings(db, self.settings)
        try:
            self.uploads = UploadService.from_settings(self.settings, db)
            self.uploads_error = None
        except TunelensError as exc:
            self.uploads_error = exc
        self.db = db
        self.error = None

    def _probe_store(self) -> None:
        """Ask the blob store whether it answers (worker thread); remember why not."""
        uploads = self.uploads
        if uploads is None:
            return
        try:
            probe_blob_store(uploads.store)
        except TunelensError as exc:
            self.store_error = exc
        else:
            self.store_error = None

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._open)
        self.started = True
        if self.error is not None:
            log.error(
                "database unavailable: %s [%s] — recommendations are served but not recorded; "
                "feedback and admin answer 503 %s",
                self.error.message,
                self.error.code,
                f"until it is back (retried every {self.retry_s:g}s)"
                if self.retry_s > 0
                else "until this is fixed and the server restarted",
                extra={"code": self.error.code},
            )
        elif self.db is not None:
            log.info("database ready: %s", self.db.backend, extra={"backend": self.db.backend})
        if self.uploads_error is not None:
            log.error(
                "uploads unavailable: %s [%s] — consented pictures are not kept",
                self.uploads_error.message,
                self.uploads_error.code,
                extra={"code": self.uploads_error.code},
            )
        if self.uploads is not None:
            await anyio.to_thread.run_sync(self._probe_store)
            if self.store_error is not None:
                log.error(
                    "blob store unreachable: %s [%s] — consented pictures wait in the outbox",
                    self.store_error.message,
                    self.store_error.code,
                    extra={"code": self.store_error.code},
                )
        if self.uploads is not None and self.settings.outbox_flush_interval_s > 0:
            self._task = asyncio.create_task(self._flush_forever(), name="tunelens-outbox-flush")
        if self.retry_s > 0:
            self._watch = asyncio.create_task(self._watch_forever(), name="tunelens-storage-watch")
        self._start_retrain()

    def _start_retrain(self) -> None:
        """Start the retrain job when it is configured and the database is open."""
        if self.settings.retrain_interval_s <= 0 or self.db is None or self.retrain is not None:
            return
        self.retrain = RetrainJob(
            Retrainer(self.settings, self.db), self.settings.retrain_interval_s
        )
        self._retrain_task = asyncio.create_task(
            self.retrain.run_forever(), name="tunelens-retrain"
        )
        log.info(
            "retrain job on: every %gs, at %d new feedback pairs",
            self.settings.retrain_interval_s,
            self.settings.retrain_threshold,
        )

    async def check_storage(self) -> None:
        """One round of the watch: reopen a missing database, re-probe the blob store, and
        deliver the outbox as soon as the store answers again (never raises)."""
        try:
            if self.db is None:
                await anyio.to_thread.run_sync(self._open)
                if self.db is not None:
                    log.info("database available again: %s", self.db.backend)
                    self._start_retrain()  # it needs the database, so it could not start
                    flushing = self.settings.outbox_flush_interval_s > 0
                    if self.uploads is not None and flushing and self._task is None:
                        self._task = asyncio.create_task(
                            self._flush_forever(), name="tunelens-outbox-flush"
                        )
            if self.uploads is not None:
                was_down = self.store_error is not None
                await anyio.to_thread.run_sync(self._probe_store)
                if was_down and self.store_error is None:
                    log.info("blob store reachable again; delivering the outbox")
                    await self.flush_once()
                elif not was_down and self.store_error is not None:
                    log.warning(
                        "blob store unreachable: %s [%s]",
                        self.store_error.message,
                        self.store_error.code,
                    )
        except Exception:
            log.exception("storage check failed; retrying at the next interval")

    async def _watch_forever(self) -> None:
        while True:
            await asyncio.sleep(self.retry_s)
            await self.check_storage()

    async def stop(self) -> None:
        if self._retrain_task is not None:
            self._retrain_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrain_task
            self._retrain_task = None
        for task in (self._task, self._watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._watch = None
        if self.db is not None:
            self.db.dispose()

    async def flush_once(self) -> None:
        """Deliver the outbox if anything waits in it (never raises)."""
        uploads = self.uploads
        if uploads is None:
            return
        try:
            if await anyio.to_thread.run_sync(uploads.pending):
                report = await anyio.to_thread.run_sync(uploads.flush)
                if report.delivered or report.error:
                    log.info(
                        "outbox flush: delivered %d, still waiting %d%s",
                        report.delivered,
                        report.remaining,
                        f" ({report.error})" if report.error else "",
                    )
        except Exception:
            log.exception("outbox flush failed; retrying at the next interval")

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.outbox_flush_interval_s)
            await self.flush_once()

    # ------------------------------------------------------------------ use

    def require_db(self) -> Database:
        """The database, or 503 ``database_unavailable`` saying why there is none."""
        if self.db is not None:
            return self.db
        if self.error is not None:
            raise DatabaseUnavailable(
                self.error.message, code="database_unavailable", details=self.error.details
            )
        raise DatabaseUnavailable(
            "The database is still starting; try again in a moment.", code="database_unavailable"
        )

    async def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run database work in a worker thread; driver failures become 503s."""
        db = self.require_db()

        def call() -> T:
            with DatabaseUnavailable.wrap(db.url):
                return func(*args, **kwargs)

        return await anyio.to_thread.run_sync(call)

    async def preferences(self, client_id: str | None, exclude: Iterable[str] = ()) -> Preferences:
        """What feedback asks of a ranking (just ``exclude`` without a database)."""
        plain = Preferences(exclude=frozenset(exclude))
        effects = self.effects
        if effects is None:
            return plain
        try:
            wanted = await self.run(effects.preferences, client_id, exclude=list(exclude))
        except Exception as exc:  # feedback is a refinement: never fail a recommendation on it
            log.warning("feedback effects unavailable for this request: %s", exc)
            return plain
        if not wanted.track_prior:  # nobody has voted yet: scores exactly as without feedback
            wanted = replace(wanted, track_prior=None)
        return wanted

    async def record(
        self,
        rec: Recommendation,
        *,
        prediction_id: str,
        client_id: str | None,
        latency_ms: float,
        source: str,
    ) -> bool:
        """Store one answer as a prediction under ``prediction_id``; False (logged) on failure."""
        if self.db is None:
            return False
        try:
            await self.run(
                repo.record_prediction,
                self.db,
                rec,
                client_id=client_id,
                latency_ms=round(latency_ms, 2),
                source=source,
                prediction_id=prediction_id,
            )
        except Exception as exc:
            log.warning("prediction %s not recorded: %s", prediction_id, exc)
            return False
        return True

    async def keep_upload(
        self,
        data: bytes,
        *,
        consent: bool,
        client_id: str | None,
        prediction_id: str | None,
        stripped: StrippedImage | None = None,
    ) -> UploadOut | None:
        """Keep the picture iff ``consent`` (storing it and its row in a worker thread).

        ``stripped`` is the picture re-encoded without metadata, made in the engine's bounded
        work queue (:func:`tunelens.web.services.answers.answer_upload`): only the I/O is left
        for this step. Without a database nothing is kept (there would be no record of the
        consent); a declined offer is recorded only as a row without the picture.
        """
        digest = hashlib.sha256(data).hexdigest()
        uploads = self.uploads
        if uploads is None or self.db is None:
            if not consent:
                return None
            return UploadOut(
                status="not_kept",
                kept=False,
                sha256=digest,
                message="The photo was not kept: storage is unavailable right now.",
            )
        if consent and stripped is None:  # it could not be re-encoded (logged where it failed)
            return UploadOut(
                status="not_kept",
                kept=False,
                sha256=digest,
                message="The photo was not kept: it could not be re-encoded without its metadata.",
            )
        try:
            result = await anyio.to_thread.run_sync(
                partial(
                    uploads.keep,
                    data,
                    consent=consent,
                    client_id=client_id,
                    prediction_id=prediction_id,
                    stripped=stripped,
                )
            )
        except Exception as exc:
            log.warning("upload not kept: %s", exc)
            return (
                UploadOut(
                    status="not_kept",
                    kept=False,
                    sha256=digest,
                    message="The photo was not kept: storage failed.",
                )
                if consent
                else None
            )
        return UploadOut(status=result.status, kept=result.kept, sha256=result.sha256)

    @property
    def can_keep_uploads(self) -> bool:
        """Whether a consented picture can be kept now (so it is worth re-encoding)."""
        return self.uploads is not None and self.db is not None

    # ------------------------------------------------------------------ reports

    def health(self) -> dict[str, Any]:
        """The ``database`` block of ``/health``."""
        status = "ok" if self.db is not None else ("unavailable" if self.error else "starting")
        out: dict[str, Any] = {
            "status": status,
            "backend": self.db.backend if self.db is not None else None,
            "error": self.error.to_dict() if self.error is not None else None,
            "uploads": (
                self.settings.blob_backend
                if self.uploads is not None
                else ("unavailable" if self.started else "starting")
            ),
            "uploads_error": self.uploads_error.to_dict() if self.uploads_error else None,
            "store_error": self.store_error.to_dict() if self.store_error else None,
        }
        if self.uploads is not None:
            try:
                out["outbox_pending"] = self.uploads.pending()
            except OSError:
                out["outbox_pending"] = None
        if self.effects is not None:
            out["prior_strength"] = self.effects.prior_strength
        if self.retrain is not None:
            out["retrain"] = self.retrain.health()
        return out

    async def feedback_figures(self) -> dict[str, Any] | None:
        """Feedback counts and the like rate for ``/stats`` (None without a database)."""
        if self.db is None:
            return None
        try:
            counts = await self.run(repo.feedback_counts, self.db)
        except Exception as exc:
            log.warning("feedback figures unavailable: %s", exc)
            return None
        return counts
