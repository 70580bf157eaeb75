"""The serving slot of the learned audio-feature head: the one head a running engine blends
into its targets, swapped without a restart.

A running server sees activations and rollbacks by itself: :class:`FeatureHeadSlot` re-reads
the task folder's ``active.json`` (see :mod:`tunelens.heads.store`) when its modification
time or the newest version changes, checked at most every :data:`RELOAD_CHECK_S` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.audio import FEATURE_RANGES
from tunelens.heads.feature import FeatureHead, load_feature_head
from tunelens.heads.store import (
    ACTIVE_FILE,
    FEATURE_TASK,
    key_figures,
    read_report,
    select_version,
    task_dir,
    versions,
)
from tunelens.vision.base import FloatArray

log = logging.getLogger(__name__)

#: seconds between checks of ``active.json`` by a serving slot
RELOAD_CHECK_S = 2.0


def clamp_features(names: Sequence[str], values: FloatArray) -> FloatArray:
    """Predicted features clipped to the range a target may take (a head can overshoot)."""
    low = np.array([FEATURE_RANGES[n][0] for n in names], dtype=np.float32)
    high = np.array([FEATURE_RANGES[n][1] for n in names], dtype=np.float32)
    return np.clip(values, low, high).astype(np.float32)


class FeatureHeadSlot:
    """The active feature head of one encoder, as the engine serves it.

    ``blend`` (``TUNELENS_FEATURE_HEAD_BLEND``) is the head's share of the target: each of
    its features becomes ``(1 − blend) · mapping + blend · head``. A head trained for another
    encoder (id or width), or one whose files cannot be read, is refused with a notice and the
    mapping alone is used.
    """

    def __init__(
        self,
        heads_dir: Path,
        model_id: str,
        dim: int,
        *,
        blend: float,
        pinned: str | None = None,
    ) -> None:
        self.folder = task_dir(heads_dir, model_id, FEATURE_TASK)
        self.model_id = model_id
        self.dim = dim
        self.blend = blend
        self.pinned = pinned.strip() if pinned and pinned.strip() else None
        self.notices: list[str] = []
        self._lock = threading.Lock()
        self._head: FeatureHead | None = None
        self._version: str | None = None
        self._report: dict[str, Any] = {}
        self._stamp: tuple[float, str | None] | None = None
        self._checked = 0.0
        self._refresh(force=True)

    def _pointer_stamp(self) -> tuple[float, str | None]:
        try:
            mtime = (self.folder / ACTIVE_FILE).stat().st_mtime_ns
        except OSError:
            mtime = -1
        found = versions(self.folder)
        return float(mtime), found[0].name if found else None

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_CHECK_S:
            return
        with self._lock:
            self._checked = now
            stamp = self._pointer_stamp()
            if not force and stamp == self._stamp:
                return
            self._stamp = stamp
            self._load()

    def _load(self) -> None:
        version = select_version(self.folder, self.pinned).version
        head: FeatureHead | None = None
        notices: list[str] = []
        if version is not None and self.blend > 0:
            head, notices = self._usable(version)
        if head is not None:
            log.info("feature head %s in use (blend %.2f)", version, self.blend)
        self._head = head
        self._version = version if head is not None else None
        self._report = read_report(self.folder / version) if head is not None and version else {}
        self.notices = notices

    def _usable(self, version: str) -> tuple[FeatureHead | None, list[str]]:
        """The saved head ``version`` if it can serve this encoder, else None and why."""
        try:
            head = load_feature_head(self.folder / version)
        except ValueError as exc:
            return None, [
                f"The feature head {version!r} cannot be used ({exc}); targets come from "
                "the documented mapping."
            ]
        encoder = head.meta.get("encoder", {})
        if encoder.get("model_id") != self.model_id or int(encoder.get("dim", -1)) != self.dim:
            return None, [
                f"The feature head {version!r} was trained for encoder "
                f"{encoder.get('model_id')} (width {encoder.get('dim')}), not "
                f"{self.model_id} (width {self.dim}); targets come from the mapping."
            ]
        return head, []

    @property
    def head(self) -> FeatureHead | None:
        self._refresh()
        return self._head

    def describe(self) -> dict[str, Any]:
        """What ``/health`` says: the active head, its model and its report's key figures."""
        self._refresh()
        head = self._head
        if head is None:
            return {"kind": "mapping", "blend": self.blend, "active": None}
        return {
            "kind": "learned",
            "active": self._version,
            "model": head.meta.get("model"),
            "blend": self.blend,
            "figures": key_figures(FEATURE_TASK, self._report),
        }

    def blend_targets(
        self, mapping_features: Sequence[dict[str, float]], embeddings: FloatArray
    ) -> list[dict[str, float]]:
        """The mapping's target features blended with the head's predictions (unchanged
        without an active head)."""
        head = self.head
        if head is None or self.blend <= 0 or len(mapping_features) == 0:
            return [dict(f) for f in mapping_features]
        names = list(head.meta["features"])
        predicted, _ = head.predict(embeddings)
        predicted = clamp_features(names, predicted)
        out = []
        for row, features in zip(predicted, mapping_features, strict=True):
            blended = dict(features)
            for j, name in enumerate(names):
                if name in blended:
                    value = (1 - self.blend) * blended[name] + self.blend * float(row[j])
                    blended[name] = round(value, 4)
            out.append(blended)
        return out
