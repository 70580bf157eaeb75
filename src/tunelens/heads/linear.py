"""Trained reading heads: picture embedding → probabilities over a task's vocabulary.

A :class:`LinearHead` (fitted by ``tunelens train --images``) is one affine map of the frozen
embedding followed by a softmax. Its files are ``head.npz`` (weights, bias, classes, task and
encoder id) and ``report.json`` (its cross-validated report), saved as one version of
``<data_dir>/heads/<encoder model_id>/<task>/`` (see :mod:`tunelens.heads.store`). Once its
report shows it beats the majority-class baseline it replaces the zero-shot (or colour)
probabilities for its task; which version a reader uses is :mod:`tunelens.heads.selection`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core import vocab as vocabularies
from tunelens.core.vocab import Vocabulary
from tunelens.heads.softmax import softmax
from tunelens.heads.store import READING_TASKS, REPORT_FILE
from tunelens.vision.base import FloatArray

#: the reading tasks a trained head can take over, and the vocabulary each one answers in
HEAD_TASKS: tuple[str, ...] = READING_TASKS
HEAD_FILE = "head.npz"


def task_vocabulary(task: str) -> Vocabulary:
    """The vocabulary a task's labels must come from (``emotion`` → emotions, …)."""
    if task == "emotion":
        return vocabularies.emotions()
    if task == "genre":
        return vocabularies.genres()
    raise ValueError(f"unknown head task {task!r}; use {' or '.join(HEAD_TASKS)}")


@dataclass(eq=False, kw_only=True)
class LinearHead:
    """A trained linear head: ``softmax(W · embedding + b)`` over the labels it was fitted on.

    Labels of the task's vocabulary the head never saw get probability 0, so a head trained
    on four emotions can only ever answer one of those four. ``passed`` is the verdict of the
    cross-validated report it was saved with (accuracy above the majority-class baseline).
    """

    task: str
    model_id: str
    classes: tuple[str, ...]
    weights: FloatArray
    bias: FloatArray
    version: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=np.float32)
        bias = np.asarray(self.bias, dtype=np.float32).reshape(-1)
        classes = tuple(self.classes)
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
        self.classes = classes
        self.weights = weights
        self.bias = bias
        self.report = dict(self.report or {})

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
                classes = tuple(str(c) for c in data["classes"].tolist())
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
