"""The versioned heads directory: which head is active, rollback, listing, and serving.

Every trained head — the reading heads of ``tunelens train --images`` (``emotion``, ``genre``)
and the audio-feature heads of ``tunelens train features`` (``features``) — lives in
``<data_dir>/heads/<encoder model_id>/<task>/<version>/`` (version = UTC time), so a head can
only ever be offered to the exact encoder weights it was trained on.

Which version a task uses is recorded in ``<task>/active.json``: ``{"version": V,
"history": [...]}``. Training sets it when a new head passes its report's gate; ``tunelens
heads activate`` sets it by hand; ``tunelens heads rollback`` restores the previous state
(``null`` in the history means "no learned head", so rolling back past the first head returns
to the documented mapping / zero-shot reading). Without ``active.json`` the newest passing
version is used, as before. Every version is kept, passing or not, for the record and for
rollback. ``TUNELENS_HEAD_<TASK>`` still pins a version (or ``none``) over all of this.

A running server sees activations and rollbacks without a restart: :class:`FeatureHeadSlot`
re-reads ``active.json`` when its modification time changes (checked at most every
:data:`RELOAD_CHECK_S` seconds).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.atomic import folder_lock, write_atomic
from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.vision.base import FloatArray

log = logging.getLogger(__name__)

ACTIVE_FILE = "active.json"
#: task names a heads directory holds
TASKS: tuple[str, ...] = ("emotion", "genre", "features")
#: most states remembered for rollback
MAX_HISTORY = 50
#: seconds between checks of ``active.json`` by a serving slot
RELOAD_CHECK_S = 2.0
#: pin values that turn a task's learned head off
OFF = frozenset({"none", "off", "mapping", "zero-shot", "zeroshot"})


# --------------------------------------------------------------------------- active pointer


def read_active(task_folder: Path) -> dict[str, Any] | None:
    """The ``active.json`` state of a task folder, or None when there is none (or it is
    unreadable: then the newest passing version is used, and the problem is logged)."""
    path = task_folder / ACTIVE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("history", []), list):
        log.warning("ignoring malformed %s", path)
        return None
    return data


def _write_active(task_folder: Path, state: dict[str, Any]) -> None:
    """Replace ``active.json`` atomically and durably: an empty file after a power cut would
    silently re-activate a head an operator rolled back."""
    write_atomic(task_folder / ACTIVE_FILE, (json.dumps(state, indent=2) + "\n").encode())


def set_active(task_folder: Path, version: str | None, *, reason: str) -> dict[str, Any]:
    """Make ``version`` (None: no learned head) the active one; the previous state goes on
    the rollback history. Returns the new state."""
    with folder_lock(task_folder):
        return _set_active(task_folder, version, reason=reason)


def _set_active(task_folder: Path, version: str | None, *, reason: str) -> dict[str, Any]:
    state = read_active(task_folder)
    # without active.json the newest passing version other than the new one was in use
    previous = (
        state.get("version") if state is not None else newest_passing(task_folder, not_=version)
    )
    history = list(state.get("history", [])) if state is not None else []
    if previous != version or state is None:
        history.append(previous)
    new = {
        "version": version,
        "history": history[-MAX_HISTORY:],
        "changed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reason": reason,
    }
    _write_active(task_folder, new)
    return new


def rollback(task_folder: Path) -> tuple[str | None, str | None]:
    """Restore the previous active state; returns (from, to). ``NotFound`` without history."""
    with folder_lock(task_folder):
        return _rollback(task_folder)


def _rollback(task_folder: Path) -> tuple[str | None, str | None]:
    state = read_active(task_folder)
    history = list(state.get("history", [])) if state is not None else []
    if state is None or not history:
        raise NotFound(
            f"There is no earlier head to roll back to in {task_folder}.",
            code="no_rollback",
            details={"task_folder": str(task_folder)},
        )
    current = state.get("version")
    target = history.pop()
    _write_active(
        task_folder,
        {
            "version": target,
            "history": history,
            "changed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": f"rollback from {current}",
        },
    )
    return current, target


def _report(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def versions(task_folder: Path) -> list[Path]:
    """Saved versions of one task, newest first (version names are UTC times)."""
    if not task_folder.is_dir():
        return []
    found = [
        p
        for p in task_folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and any(p.iterdir())
    ]
    return sorted(found, key=lambda p: p.name, reverse=True)


def newest_passing(task_folder: Path, not_: str | None = None) -> str | None:
    for directory in versions(task_folder):
        if directory.name != not_ and _report(directory).get("passed"):
            return directory.name
    return None


def active_version(task_folder: Path) -> str | None:
    """The version a task uses: ``active.json``'s, else the newest passing one."""
    state = read_active(task_folder)
    if state is not None:
        version = state.get("version")
        return str(version) if version else None
    return newest_passing(task_folder)


# --------------------------------------------------------------------------- CLI helpers


def key_figures(task: str, report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers ``heads list`` and ``/health`` show for a head's report."""
    if task == "features":
        held = report.get("held_out") or {}
        retrieval = report.get("retrieval") or {}
        return {
            "model": report.get("model"),
            "mse": held.get("mse_mean"),
            "mse_baseline": held.get("baseline_mse_mean"),
            "r2": held.get("r2_mean"),
            "emotion_accuracy": (report.get("emotions") or {}).get("accuracy"),
            "emotion_baseline": ((report.get("emotions") or {}).get("baseline") or {}).get(
                "accuracy"
            ),
            "hit_at_10": (retrieval.get("head") or {}).get("hit_at_10"),
            "hit_at_10_mapping": (retrieval.get("mapping") or {}).get("hit_at_10"),
            "held_out_images": held.get("images"),
        }
    return {
        "accuracy": report.get("accuracy"),
        "baseline_accuracy": (report.get("baseline") or {}).get("accuracy"),
    }


def list_heads(heads_dir: Path) -> list[dict[str, Any]]:
    """Every saved head of every encoder and task, newest first within each task."""
    rows: list[dict[str, Any]] = []
    if not heads_dir.is_dir():
        return rows
    for model_dir in sorted(p for p in heads_dir.iterdir() if p.is_dir()):
        for task in TASKS:
            folder = model_dir / task
            active = active_version(folder)
            for directory in versions(folder):
                report = _report(directory)
                rows.append(
                    {
                        "model_id": model_dir.name,
                        "task": task,
                        "version": directory.name,
                        "active": directory.name == active,
                        "passed": bool(report.get("passed")),
                        "created_at": report.get("created_at"),
                        "figures": key_figures(task, report),
                        "path": str(directory),
                    }
                )
    return rows


def find_task_folders(
    heads_dir: Path, *, task: str | None, model_id: str | None, version: str | None = None
) -> list[Path]:
    """Task folders matching the filters (and holding ``version`` when given)."""
    if task is not None and task not in TASKS:
        raise InvalidRequest(
            f"task must be one of {', '.join(TASKS)}, got {task!r}.", code="unknown_task"
        )
    if not heads_dir.is_dir():
        return []
    out = []
    for model_dir in sorted(p for p in heads_dir.iterdir() if p.is_dir()):
        if model_id is not None and model_dir.name != model_id:
            continue
        for name in TASKS if task is None else (task,):
            folder = model_dir / name
            if not folder.is_dir():
                continue
            if version is not None and not (folder / version).is_dir():
                continue
            out.append(folder)
    return out


def one_folder(folders: Sequence[Path], what: str) -> Path:
    """The single folder a command applies to, or a clear error naming the choices."""
    if not folders:
        raise NotFound(f"No saved heads match {what}.", code="head_not_found")
    if len(folders) > 1:
        choices = ", ".join(f"{p.parent.name}/{p.name}" for p in folders)
        raise InvalidRequest(
            f"{what} matches several head folders ({choices}); pass --task and/or --model-id.",
            code="head_ambiguous",
        )
    return folders[0]


def check_activatable(folder: Path, version: str, *, force: bool) -> None:
    """Refuse to activate a head that is unreadable, was trained for another encoder than
    its folder says, or did not pass its gate (unless ``force``)."""
    directory = folder / version
    task = folder.name
    model_id = folder.parent.name
    if task == "features":
        from tunelens.heads.feature import load_feature_head, read_meta

        try:
            meta, report = read_meta(directory)
            load_feature_head(directory)
        except ValueError as exc:
            raise InvalidRequest(str(exc), code="head_invalid") from None
        from tunelens.heads.linear import safe_model_dir

        if safe_model_dir(str(meta["encoder"]["model_id"])) != model_id:
            raise InvalidRequest(
                f"head {version} was trained for encoder {meta['encoder']['model_id']}, not "
                f"{model_id}.",
                code="head_encoder_mismatch",
            )
    else:
        from tunelens.heads.linear import LinearHead

        try:
            head = LinearHead.load(directory)
        except ValueError as exc:
            raise InvalidRequest(str(exc), code="head_invalid") from None
        report = head.report
    if not report.get("passed") and not force:
        raise InvalidRequest(
            f"head {version} did not beat its baselines ({report.get('verdict', 'no report')}); "
            "pass --force to activate it anyway.",
            code="head_not_passed",
        )


# --------------------------------------------------------------------------- serving


def _clamp_features(names: Sequence[str], values: FloatArray) -> FloatArray:
    from tunelens.core.audio import FEATURE_RANGES

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
        from tunelens.heads.linear import task_dir

        self.folder = task_dir(heads_dir, model_id, "features")
        self.model_id = model_id
        self.dim = dim
        self.blend = blend
        self.pinned = pinned.strip() if pinned and pinned.strip() else None
        self.notices: list[str] = []
        self._lock = threading.Lock()
        self._head: Any = None
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
        from tunelens.heads.feature import load_feature_head

        notices: list[str] = []
        version: str | None
        if self.pinned is not None and self.pinned.lower() in OFF:
            version = None
        elif self.pinned is not None:
            version = self.pinned
        else:
            version = active_version(self.folder)
        head: Any = None
        if version is not None and self.blend > 0:
            try:
                head = load_feature_head(self.folder / version)
            except ValueError as exc:
                notices.append(
                    f"The feature head {version!r} cannot be used ({exc}); targets come from "
                    "the documented mapping."
                )
            else:
                encoder = head.meta.get("encoder", {})
                if encoder.get("model_id") != self.model_id or int(encoder.get("dim", -1)) != (
                    self.dim
                ):
                    notices.append(
                        f"The feature head {version!r} was trained for encoder "
                        f"{encoder.get('model_id')} (width {encoder.get('dim')}), not "
                        f"{self.model_id} (width {self.dim}); targets come from the mapping."
                    )
                    head = None
        if head is not None:
            log.info("feature head %s in use (blend %.2f)", version, self.blend)
        self._head = head
        self._version = version if head is not None else None
        self._report = _report(self.folder / version) if head is not None and version else {}
        self.notices = notices

    @property
    def head(self) -> Any:
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
            "figures": key_figures("features", self._report),
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
        predicted = _clamp_features(names, predicted)
        out = []
        for row, features in zip(predicted, mapping_features, strict=True):
            blended = dict(features)
            for j, name in enumerate(names):
                if name in blended:
                    value = (1 - self.blend) * blended[name] + self.blend * float(row[j])
                    blended[name] = round(value, 4)
            out.append(blended)
        return out
