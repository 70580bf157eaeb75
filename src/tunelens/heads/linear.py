"""Reading heads: picture embedding → probabilities over a vocabulary.

Each vocabulary term gets one class vector, the normalised mean of its prompt-ensemble text
embeddings (Radford et al. 2021, §3.1.4: ensembling prompts beats a single prompt). The class
matrices cost one pass of the text tower, so they are computed once per (model, vocabulary)
pair and cached on disk keyed by the model id and the vocabulary file's hash; a reworded prompt
or a new model can never reuse a stale matrix.

Trained linear heads (:class:`LinearHead`, fitted by ``tunelens train``) are saved versioned
under ``<data_dir>/heads/<encoder model_id>/<task>/<UTC time>/`` and, once their report shows
they beat the majority-class baseline, replace the zero-shot (or colour) probabilities for
their task.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.atomic import write_atomic
from tunelens.core.vocab import Vocabulary
from tunelens.vision.base import Encoder, FloatArray, l2_normalise

log = logging.getLogger(__name__)

#: CLIP's learned logit scale is ≈100; softmax(100·cos) is how CLIP itself scores classes
DEFAULT_LOGIT_SCALE = 100.0


def softmax(logits: FloatArray, axis: int = -1) -> FloatArray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    probabilities: FloatArray = (exp / exp.sum(axis=axis, keepdims=True)).astype(np.float32)
    return probabilities


class ZeroShotHeads:
    """Class matrices for every vocabulary, built from an encoder's text tower."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None) -> None:
        if not encoder.supports_text:
            raise ValueError(f"encoder {encoder.name} has no text tower for zero-shot heads")
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.logit_scale = float(getattr(encoder, "logit_scale", DEFAULT_LOGIT_SCALE))
        self._matrices: dict[str, FloatArray] = {}

    def _cache_path(self, vocab: Vocabulary) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / "heads" / f"{self.encoder.model_id}-{vocab.kind}-{vocab.digest}.npz"

    def class_matrix(self, vocab: Vocabulary) -> FloatArray:
        """(n_terms, dim) matrix of class vectors, from memory, disk cache or the text tower."""
        if vocab.kind in self._matrices:
            return self._matrices[vocab.kind]
        path = self._cache_path(vocab)
        matrix: FloatArray | None = None
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    loaded = data["classes"].astype(np.float32)
                if loaded.shape == (len(vocab.terms), self.encoder.dim):
                    matrix = loaded
            except (OSError, ValueError, KeyError):
                log.warning("ignoring unreadable head cache %s", path)
        if matrix is None:
            matrix = self._compute(vocab)
            if path is not None:
                self._save(path, matrix)
        self._matrices[vocab.kind] = matrix
        return matrix

    def _compute(self, vocab: Vocabulary) -> FloatArray:
        rows = []
        for term in vocab.terms:
            prompts = term.prompts(vocab.templates)
            embedded = self.encoder.embed_texts(prompts)
            rows.append(embedded.mean(axis=0))
        return l2_normalise(np.stack(rows).astype(np.float32))

    @staticmethod
    def _save(path: Path, matrix: FloatArray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, classes=matrix)
        try:
            write_atomic(path, buffer.getvalue(), durable=False)  # a cache: rebuilt if lost
        except OSError as exc:  # a read-only or full cache only costs speed
            log.warning("could not cache head matrix at %s: %s", path, exc)

    def probabilities(
        self, embeddings: FloatArray, vocab: Vocabulary, temperature: float = 1.0
    ) -> FloatArray:
        """Softmax over the vocabulary of ``logit_scale · cos / temperature``."""
        logits = (embeddings @ self.class_matrix(vocab).T) * (self.logit_scale / temperature)
        return softmax(logits.astype(np.float32))


# --------------------------------------------------------------------------- trained heads

#: the reading tasks a trained head can take over, and the vocabulary each one answers in
HEAD_TASKS: tuple[str, ...] = ("emotion", "genre")
HEAD_FILE = "head.npz"
REPORT_FILE = "report.json"
#: pin values that turn trained heads off for a task (``TUNELENS_HEAD_EMOTION=none``)
HEAD_OFF = frozenset({"none", "off", "zero-shot", "zeroshot"})


def task_vocabulary(task: str) -> Vocabulary:
    """The vocabulary a task's labels must come from (``emotion`` → emotions, …)."""
    from tunelens.core import vocab

    if task == "emotion":
        return vocab.emotions()
    if task == "genre":
        return vocab.genres()
    raise ValueError(f"unknown head task {task!r}; use {' or '.join(HEAD_TASKS)}")


def safe_model_dir(model_id: str) -> str:
    """A directory name for an encoder's ``model_id`` (no separators, no dot-only names)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id).strip(".")
    return cleaned or "model"


def task_dir(root: Path, model_id: str, task: str) -> Path:
    """``<root>/<model_id>/<task>``: where the versions of one encoder's head for one task live."""
    return root / safe_model_dir(model_id) / task


class LinearHead:
    """A trained linear head: ``softmax(W · embedding + b)`` over the labels it was fitted on.

    Labels of the task's vocabulary the head never saw get probability 0, so a head trained
    on four emotions can only ever answer one of those four. ``passed`` is the verdict of the
    cross-validated report it was saved with (accuracy above the majority-class baseline).
    """

    def __init__(
        self,
        *,
        task: str,
        model_id: str,
        classes: Sequence[str],
        weights: FloatArray,
        bias: FloatArray,
        version: str = "",
        report: dict[str, Any] | None = None,
        path: Path | None = None,
    ) -> None:
        weights = np.asarray(weights, dtype=np.float32)
        bias = np.asarray(bias, dtype=np.float32).reshape(-1)
        if weights.ndim != 2 or weights.shape[0] != bias.shape[0]:
            raise ValueError(f"head weights {weights.shape} do not match bias {bias.shape}")
        if len(classes) < 2:
            raise ValueError("a head needs at least two classes")
        if weights.shape[0] == 1 and len(classes) == 2:
            # scikit-learn's binary form: one logit for the second class; softmax([0, z]) = σ(z)
            weights = np.vstack([np.zeros_like(weights), weights])
            bias = np.concatenate([np.zeros(1, dtype=np.float32), bias])
        if weights.shape[0] != len(classes):
            raise ValueError(f"head has {weights.shape[0]} rows for {len(classes)} classes")
        self.task = task
        self.model_id = model_id
        self.classes = tuple(classes)
        self.weights = weights
        self.bias = bias
        self.version = version
        self.report = dict(report or {})
        self.path = path

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    @property
    def passed(self) -> bool:
        return bool(self.report.get("passed", False))

    def class_probabilities(self, embeddings: FloatArray) -> FloatArray:
        """``(N, n_classes)`` probabilities over the head's own classes."""
        logits = np.asarray(embeddings, dtype=np.float32) @ self.weights.T + self.bias
        return softmax(logits.astype(np.float32))

    def probabilities(self, embeddings: FloatArray, vocab: Vocabulary) -> FloatArray:
        """``(N, len(vocab.terms))`` probabilities in the vocabulary's order."""
        own = self.class_probabilities(embeddings)
        out = np.zeros((own.shape[0], len(vocab.terms)), dtype=np.float32)
        names = vocab.names
        for j, name in enumerate(self.classes):
            out[:, names.index(name)] = own[:, j]
        return out

    def describe(self) -> dict[str, Any]:
        """What ``/health`` and the CLI say about this head."""
        return {
            "kind": "trained",
            "version": self.version,
            "classes": list(self.classes),
            "accuracy": self.report.get("accuracy"),
            "baseline_accuracy": (self.report.get("baseline") or {}).get("accuracy"),
            "passed": self.passed,
        }

    def save(self, directory: Path) -> None:
        """Write ``head.npz`` (and ``report.json`` when there is a report) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / HEAD_FILE).open("wb") as handle:
            np.savez(
                handle,
                weights=self.weights,
                bias=self.bias,
                classes=np.array(self.classes),
                task=np.array(self.task),
                model_id=np.array(self.model_id),
            )
        if self.report:
            (directory / REPORT_FILE).write_text(
                json.dumps(self.report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )

    @classmethod
    def load(cls, directory: Path) -> LinearHead:
        """Read a saved head; ``ValueError`` when its files are missing or inconsistent."""
        try:
            with np.load(directory / HEAD_FILE) as data:
                weights = data["weights"].astype(np.float32)
                bias = data["bias"].astype(np.float32)
                classes = [str(c) for c in data["classes"].tolist()]
                task = str(data["task"])
                model_id = str(data["model_id"])
            report_path = directory / REPORT_FILE
            report = (
                json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
            )
        except (OSError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"unreadable head at {directory}: {exc}") from exc
        vocabulary = task_vocabulary(task)
        unknown = [c for c in classes if c not in vocabulary.names]
        if unknown:
            raise ValueError(f"head at {directory} has labels outside the vocabulary: {unknown}")
        return cls(
            task=task,
            model_id=model_id,
            classes=classes,
            weights=weights,
            bias=bias,
            version=directory.name,
            report=report,
            path=directory,
        )


def head_versions(root: Path, model_id: str, task: str) -> list[Path]:
    """Saved versions of one encoder's head for one task, newest first (names are UTC times)."""
    folder = task_dir(root, model_id, task)
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / HEAD_FILE).exists()
    ]
    return sorted(found, key=lambda p: p.name, reverse=True)


def select_head(
    root: Path, model_id: str, task: str, dim: int, pinned: str | None = None
) -> tuple[LinearHead | None, list[str]]:
    """The head a reader should use for ``task``, and notices about the choice.

    Without ``pinned``: the version ``active.json`` names when there is one (set by training
    and by ``tunelens heads activate|rollback``, see :mod:`tunelens.heads.store`), else the
    newest version whose report passed. With ``pinned`` (a version
    name): exactly that version, passed or not (the operator's call); ``none`` turns trained
    heads off. A head that is missing, unreadable or of the wrong width is never used.
    """
    notices: list[str] = []
    if pinned is not None and pinned.strip().lower() in HEAD_OFF:
        return None, notices
    if pinned:
        directory = task_dir(root, model_id, task) / pinned.strip()
        try:
            head = LinearHead.load(directory)
        except ValueError as exc:
            notices.append(
                f"The pinned {task} head {pinned!r} cannot be used ({exc}); reading {task} "
                "without a trained head."
            )
            return None, notices
        if head.dim != dim or head.model_id != model_id:
            notices.append(
                f"The pinned {task} head {pinned!r} was trained for another encoder "
                f"({head.model_id}, width {head.dim}); reading {task} without it."
            )
            return None, notices
        if not head.passed:
            notices.append(
                f"The pinned {task} head {pinned!r} did not beat its majority-class baseline; "
                "it is used because it is pinned."
            )
        return head, notices
    from tunelens.heads.store import read_active

    state = read_active(task_dir(root, model_id, task))
    if state is not None:
        # ``tunelens heads activate|rollback`` (or training) chose: exactly that, or nothing
        return _active_head(root, model_id, task, dim, state.get("version"))
    for directory in head_versions(root, model_id, task):
        try:
            head = LinearHead.load(directory)
        except ValueError as exc:
            log.warning("skipping %s head %s: %s", task, directory, exc)
            continue
        if head.passed and head.dim == dim and head.model_id == model_id:
            return head, notices
    return None, notices


def _active_head(
    root: Path, model_id: str, task: str, dim: int, version: Any
) -> tuple[LinearHead | None, list[str]]:
    """The head ``active.json`` names (None: no trained head), if it is usable here."""
    if not version:
        return None, []
    directory = task_dir(root, model_id, task) / str(version)
    try:
        head = LinearHead.load(directory)
    except ValueError as exc:
        return None, [
            f"The active {task} head {version!r} cannot be used ({exc}); reading {task} "
            "without a trained head."
        ]
    if head.dim != dim or head.model_id != model_id:
        return None, [
            f"The active {task} head {version!r} was trained for another encoder "
            f"({head.model_id}, width {head.dim}); reading {task} without it."
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
