"""The versioned heads directory: what a version is, which one is active, rollback, listing.

Every trained head — the reading heads of ``tunelens train --images`` (``emotion``, ``genre``)
and the audio-feature heads of ``tunelens train features`` (``features``) — lives in
``<data_dir>/heads/<encoder model_id>/<task>/<version>/`` (version = UTC time), so a head can
only ever be offered to the exact encoder weights it was trained on. A version is a visible,
non-empty folder there; it appears by a rename from a hidden staging folder, so a half-written
head is never one. Every version carries a ``report.json`` whose ``passed`` is its gate.

Which version a task uses is recorded in ``<task>/active.json``: ``{"version": V,
"history": [...]}``. Training sets it when a new head passes its report's gate; ``tunelens
heads activate`` sets it by hand; ``tunelens heads rollback`` restores the previous state
(``null`` in the history means "no learned head", so rolling back past the first head returns
to the documented mapping / zero-shot reading). Without ``active.json`` the newest passing
version is used, as before. Every version is kept, passing or not, for the record and for
rollback. ``TUNELENS_HEAD_<TASK>`` still pins a version (or ``none``) over all of this.

This module knows nothing of what a head computes: loading and applying each kind is
:mod:`tunelens.heads.linear` and :mod:`tunelens.heads.feature`, choosing and serving them
:mod:`tunelens.heads.selection` and :mod:`tunelens.heads.serving`.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tunelens.core.atomic import folder_lock, write_atomic
from tunelens.core.errors import InvalidRequest, NotFound

log = logging.getLogger(__name__)

ACTIVE_FILE = "active.json"
#: every version's report; its ``passed`` decides whether the version may be used unpinned
REPORT_FILE = "report.json"
#: the tasks a reading head (:class:`tunelens.heads.linear.LinearHead`) can take over
READING_TASKS: tuple[str, ...] = ("emotion", "genre")
#: the task of the learned audio-feature heads
FEATURE_TASK = "features"
#: task names a heads directory holds
TASKS: tuple[str, ...] = (*READING_TASKS, FEATURE_TASK)
#: most states remembered for rollback
MAX_HISTORY = 50
#: pin values that turn a task's learned head off (``TUNELENS_HEAD_EMOTION=none``)
OFF = frozenset({"none", "off", "mapping", "zero-shot", "zeroshot"})
STAGING_PREFIX = ".staging-"


# --------------------------------------------------------------------------- layout


def safe_model_dir(model_id: str) -> str:
    """A directory name for an encoder's ``model_id`` (no separators, no dot-only names)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id).strip(".")
    return cleaned or "model"


def task_dir(root: Path, model_id: str, task: str) -> Path:
    """``<root>/<model_id>/<task>``: where the versions of one encoder's head for one task live."""
    return root / safe_model_dir(model_id) / task


# --------------------------------------------------------------------------- versions


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


def read_report(directory: Path) -> dict[str, Any]:
    """A version's ``report.json`` ({} when it is missing or unreadable)."""
    try:
        data = json.loads((directory / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def newest_passing(task_folder: Path, not_: str | None = None) -> str | None:
    """The newest version whose report passed (other than ``not_``)."""
    for directory in versions(task_folder):
        if directory.name != not_ and read_report(directory).get("passed"):
            return directory.name
    return None


def new_version(parent: Path) -> str:
    """A version name: the UTC time, ``-2``, ``-3``… when one already exists this second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = stamp, 1
    while (parent / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return name


@contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A hidden folder beside the versions to write a new one into (see :func:`publish`); it
    is removed when the block fails, so nothing half-made is ever left behind."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def publish(staged: Path, version: str) -> Path:
    """Rename a complete staging folder into place: from now on it is version ``version``."""
    target = staged.parent / version
    staged.rename(target)
    return target


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


def active_version(task_folder: Path) -> str | None:
    """The version a task uses: ``active.json``'s, else the newest passing one."""
    state = read_active(task_folder)
    if state is not None:
        version = state.get("version")
        return str(version) if version else None
    return newest_passing(task_folder)


@dataclass(frozen=True)
class Selection:
    """The one version a task should load (None: no learned head), and whether an operator
    pinned it (``TUNELENS_HEAD_<TASK>``) rather than the store choosing it."""

    version: str | None
    pinned: bool = False


def select_version(task_folder: Path, pin: str | None = None) -> Selection:
    """What every head kind loads: a pin (``none`` and friends: no head), else the
    :func:`active_version`. Whether that version fits the encoder is the loader's call."""
    pin = pin.strip() if pin else None
    if pin and pin.lower() in OFF:
        return Selection(None, pinned=True)
    if pin:
        return Selection(pin, pinned=True)
    return Selection(active_version(task_folder))


# --------------------------------------------------------------------------- listing


def key_figures(task: str, report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers ``heads list`` and ``/health`` show for a head's report."""
    if task == FEATURE_TASK:
        held = report.get("held_out") or {}
        retrieval = report.get("retrieval") or {}
        emotions = report.get("emotions") or {}
        return {
            "model": report.get("model"),
            "mse": held.get("mse_mean"),
            "mse_baseline": held.get("baseline_mse_mean"),
            "r2": held.get("r2_mean"),
            "emotion_accuracy": emotions.get("accuracy"),
            "emotion_baseline": (emotions.get("baseline") or {}).get("accuracy"),
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
                report = read_report(directory)
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
