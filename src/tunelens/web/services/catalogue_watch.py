"""The hot switch: a running server moves to a new catalogue version without a restart.

``catalog add``/``remove``/``compact`` (or the admin API) write a new version and replace the
catalogue's ``meta.json`` last. Each request asks :meth:`CatalogueWatch.poll`, which costs a
clock read; at most every ``catalog_check_seconds`` it starts one background thread that
reads the version (one small file, or one small GET for an ``s3://`` catalogue), and when it
changed opens the new version — mapped, so in well under a second for a million songs — and
swaps ``state.engine`` in one assignment. A request works with the engine it was handed from
start to end, so none sees half a catalogue; a version that fails to open is logged and the
old one kept serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tunelens.catalogue.remote import RemoteCatalogue, remote_url
from tunelens.catalogue.store_read import catalogue_version
from tunelens.core.errors import TunelensError
from tunelens.core.settings import Settings
from tunelens.pipeline import Pipeline, reopen_catalogue

log = logging.getLogger("tunelens.web")


class _Holder(Protocol):
    engine: Pipeline | None


def version_probe(location: str, settings: Settings) -> Callable[[], str | None]:
    """A function returning the catalogue's current version token (None: unreadable)."""
    url = remote_url(location)
    if url is not None:
        remote = RemoteCatalogue.from_settings(url, settings)

        def remote_version() -> str | None:
            try:
                return remote.current_version()
            except TunelensError:
                return None

        return remote_version
    root = Path(location).expanduser()

    def local_version() -> str | None:
        found = catalogue_version(root)
        return None if found is None else f"{found[0]}:{found[1]}"

    return local_version


class CatalogueWatch:
    """Notices a new catalogue version and swaps the engine (see the module doc)."""

    def __init__(self, location: str, probe: Callable[[], str | None], interval: float) -> None:
        self.location = location
        self.interval = interval
        self._probe = probe
        self._token = probe()  # read before the engine opens, so no version is missed
        self._next_check = time.monotonic() + interval
        self._busy = threading.Lock()
        self.switches = 0

    def poll(self, holder: _Holder) -> None:
        """Start a check when one is due (never blocks a request)."""
        if self.interval <= 0 or time.monotonic() < self._next_check:
            return
        if not self._busy.acquire(blocking=False):
            return
        self._next_check = time.monotonic() + self.interval
        threading.Thread(target=self._check, args=(holder,), daemon=True).start()

    def _check(self, holder: _Holder) -> None:
        try:
            self.refresh(holder)
        finally:
            self._busy.release()

    def refresh(self, holder: _Holder) -> bool:
        """Switch ``holder.engine`` to the current version if it changed; True if switched."""
        token = self._probe()
        engine = holder.engine
        if token is None or token == self._token or engine is None:
            return False
        started = time.perf_counter()
        try:
            fresh = reopen_catalogue(engine, self.location)
        except TunelensError as exc:
            log.warning(
                "catalogue version %s cannot be opened, still serving the previous one: %s",
                token,
                exc.message,
                extra={"code": exc.code},
            )
            return False
        holder.engine = fresh
        self._token = token
        self.switches += 1
        log.info(
            "catalogue switched to version %s: %d songs, opened in %.2fs",
            token,
            fresh.catalogue_size,
            time.perf_counter() - started,
        )
        return True
