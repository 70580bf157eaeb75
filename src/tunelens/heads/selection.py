"""Which saved head a task may use: the reading heads a reader starts with, and the check
before ``tunelens heads activate`` makes a version the active one.

The store (:mod:`tunelens.heads.store`) names exactly one version per task — a pin, else
``active.json``, else the newest passing version — so ``tunelens heads list`` and the engine
always agree on it. This module loads that version with its kind's loader and refuses it,
with a notice, when it cannot be read or was trained for another encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tunelens.core.errors import InvalidRequest
from tunelens.heads.feature import load_feature_head, read_meta
from tunelens.heads.linear import HEAD_TASKS, LinearHead
from tunelens.heads.store import FEATURE_TASK, safe_model_dir, select_version, task_dir


def select_head(
    root: Path, model_id: str, task: str, dim: int, pinned: str | None = None
) -> tuple[LinearHead | None, list[str]]:
    """The head a reader should use for ``task``, and notices about the choice.

    Without ``pinned``: the version the store says is active (``active.json``, set by training
    and by ``tunelens heads activate|rollback``; else the newest passing one). With ``pinned``
    (a version name): exactly that version, passed or not (the operator's call); ``none``
    turns trained heads off. A head that is missing, unreadable or of the wrong width is
    never used.
    """
    choice = select_version(task_dir(root, model_id, task), pinned)
    if choice.version is None:
        return None, []
    which = "pinned" if choice.pinned else "active"
    version = choice.version
    try:
        head = LinearHead.load(task_dir(root, model_id, task) / version)
    except ValueError as exc:
        return None, [
            f"The {which} {task} head {version!r} cannot be used ({exc}); reading {task} "
            "without a trained head."
        ]
    if head.dim != dim or head.model_id != model_id:
        return None, [
            f"The {which} {task} head {version!r} was trained for another encoder "
            f"({head.model_id}, width {head.dim}); reading {task} without it."
        ]
    if choice.pinned and not head.passed:
        return head, [
            f"The pinned {task} head {version!r} did not beat its majority-class baseline; "
            "it is used because it is pinned."
        ]
    return head, []


def load_trained_heads(
    root: Path, model_id: str, dim: int, pins: Mapping[str, str | None] | None = None
) -> tuple[dict[str, LinearHead], list[str]]:
    """Every task's selected head (see :func:`select_head`), and the notices."""
    pins = pins or {}
    chosen: dict[str, LinearHead] = {}
    notices: list[str] = []
    for task in HEAD_TASKS:
        head, task_notices = select_head(root, model_id, task, dim, pins.get(task))
        notices.extend(task_notices)
        if head is not None:
            chosen[task] = head
    return chosen, notices


def check_activatable(folder: Path, version: str, *, force: bool) -> None:
    """Refuse to activate a head that is unreadable, was trained for another encoder than
    its folder says, or did not pass its gate (unless ``force``)."""
    directory = folder / version
    model_id = folder.parent.name
    trained_for: str | None = None  # a reading head's folder is its only encoder record
    try:
        if folder.name == FEATURE_TASK:
            meta, report = read_meta(directory)
            load_feature_head(directory)
            trained_for = str(meta["encoder"]["model_id"])
        else:
            report = LinearHead.load(directory).report
    except ValueError as exc:
        raise InvalidRequest(str(exc), code="head_invalid") from None
    if trained_for is not None and safe_model_dir(trained_for) != model_id:
        raise InvalidRequest(
            f"head {version} was trained for encoder {trained_for}, not {model_id}.",
            code="head_encoder_mismatch",
        )
    if not report.get("passed") and not force:
        raise InvalidRequest(
            f"head {version} did not beat its baselines ({report.get('verdict', 'no report')}); "
            "pass --force to activate it anyway.",
            code="head_not_passed",
        )
