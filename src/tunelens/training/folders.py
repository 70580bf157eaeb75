"""Labelled picture folders: ``DIR/<label>/*.jpg``, listed, checked and embedded once.

``DIR`` holds one sub-folder per label, named after a term of the task's vocabulary
(``DIR/amusement/*.jpg``, ``DIR/sadness/*.jpg``; case does not matter). Both ``tunelens train
--images`` and ``tunelens eval --images`` read their pictures through here, so a folder means
the same to both.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from tunelens.core.errors import InvalidRequest, TunelensError
from tunelens.heads.linear import HEAD_TASKS, task_vocabulary
from tunelens.training.run import TrainingRun
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.imaging import LoadedImage, load_image

Task = Literal["emotion", "genre"]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mpo"}
)
#: pictures embedded per encoder call
EMBED_BATCH = 16


@dataclass
class LabelledFolder:
    """The pictures of a labelled folder: relative paths and their labels, in a fixed order."""

    root: Path
    task: Task
    paths: list[str]
    labels: list[str]
    ignored: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))


def _canonical_labels(task: Task) -> dict[str, str]:
    return {name.casefold(): name for name in task_vocabulary(task).names}


def infer_task(root: Path) -> Task:
    """The task whose vocabulary names every sub-folder of ``root`` (for ``tunelens eval``)."""
    names = [p.name.casefold() for p in _label_dirs(root)]
    for task in ("emotion", "genre"):
        known = _canonical_labels(task)
        if names and all(n in known for n in names):
            return task
    raise InvalidRequest(
        f"The sub-folders of {root} ({', '.join(sorted(names)) or 'none'}) are not all "
        "emotions or all genres; pass --task.",
        code="unknown_task",
    )


def _label_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        raise InvalidRequest(
            f"{root} is not a folder of labelled pictures.",
            code="images_dir_missing",
            details={"path": str(root)},
        )
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _add_pictures(folder: LabelledFolder, sub: Path, label: str) -> None:
    """Every picture under ``sub`` (recursively, hidden names skipped) as ``label``; other
    files are listed as ignored."""
    for dirpath, dirnames, filenames in os.walk(sub):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(folder.root).as_posix()
            if name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                folder.ignored.append(rel)
                continue
            folder.paths.append(rel)
            folder.labels.append(label)


def scan_folder(root: Path, task: Task) -> LabelledFolder:
    """List the pictures of a labelled folder; every sub-folder must name a vocabulary term."""
    if task not in HEAD_TASKS:
        raise InvalidRequest(
            f"task must be one of {', '.join(HEAD_TASKS)}, got {task!r}.", code="unknown_task"
        )
    known = _canonical_labels(task)
    folder = LabelledFolder(root=root, task=task, paths=[], labels=[])
    unknown: list[str] = []
    for sub in _label_dirs(root):
        label = known.get(sub.name.casefold())
        if label is None:
            unknown.append(sub.name)
            continue
        _add_pictures(folder, sub, label)
    if unknown:
        raise InvalidRequest(
            f"Sub-folders of {root} must be {task} names ({', '.join(known.values())}); "
            f"not: {', '.join(unknown)}.",
            code="unknown_label",
            details={"unknown": unknown, "allowed": list(known.values())},
        )
    if len(set(folder.labels)) < 2:
        raise InvalidRequest(
            f"{root} needs pictures in at least two label folders; found "
            f"{folder.counts() or 'none'}.",
            code="too_few_labels",
            details={"counts": folder.counts()},
        )
    return folder


@dataclass
class EmbeddedFolder:
    """Embeddings of a labelled folder's readable pictures, and what could not be read."""

    folder: LabelledFolder
    embeddings: FloatArray
    labels: list[str]
    paths: list[str]
    images: list[LoadedImage]
    skipped: list[dict[str, str]]
    digest: str


class _Batcher:
    """Pictures waiting to be embedded together, and everything embedded so far."""

    def __init__(self, encoder: Encoder, *, keep_images: bool) -> None:
        self.encoder = encoder
        self.keep_images = keep_images
        self.rows: list[FloatArray] = []
        self.labels: list[str] = []
        self.paths: list[str] = []
        self.kept: list[LoadedImage] = []
        self.waiting: list[tuple[str, str, LoadedImage]] = []

    def add(self, rel: str, label: str, image: LoadedImage) -> bool:
        """Queue one picture; True when a full batch was just embedded."""
        self.waiting.append((rel, label, image))
        if len(self.waiting) < EMBED_BATCH:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        if not self.waiting:
            return
        self.rows.append(self.encoder.embed_images([image for _, _, image in self.waiting]))
        for rel, label, image in self.waiting:
            self.paths.append(rel)
            self.labels.append(label)
            if self.keep_images:
                self.kept.append(image)
        self.waiting.clear()

    def embeddings(self) -> FloatArray:
        if not self.rows:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.concatenate(self.rows).astype(np.float32)


def embed_folder(
    folder: LabelledFolder, encoder: Encoder, run: TrainingRun, *, keep_images: bool = False
) -> EmbeddedFolder:
    """Decode and embed every picture (unreadable ones are skipped and listed).

    ``digest`` fingerprints the (label, picture sha256) pairs, so a report can tell whether
    an evaluation folder is the one a head was trained on.
    """
    batcher = _Batcher(encoder, keep_images=keep_images)
    skipped: list[dict[str, str]] = []
    fingerprint: list[str] = []
    for i, (rel, label) in enumerate(zip(folder.paths, folder.labels, strict=True)):
        try:
            image = load_image(folder.root / rel, settings=run.settings)
        except TunelensError as exc:
            skipped.append({"path": rel, "code": exc.code, "message": exc.message})
            continue
        fingerprint.append(f"{label}\t{image.sha256}")
        if batcher.add(rel, label, image):
            run.say(f"embedded {i + 1}/{len(folder.paths)} pictures")
    batcher.flush()
    digest = hashlib.sha256("\n".join(sorted(fingerprint)).encode()).hexdigest()
    return EmbeddedFolder(
        folder,
        batcher.embeddings(),
        batcher.labels,
        batcher.paths,
        batcher.kept,
        skipped,
        digest,
    )
