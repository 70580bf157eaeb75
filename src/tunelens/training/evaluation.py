"""``tunelens eval --images DIR``: score the reading tunelens uses now on a labelled folder, and
print reading-head reports (cross-validated or evaluation) for the terminal.

The reader is the one the engine would build (:func:`tunelens.pipeline.build_reader`, trained
heads included), so the report measures what serving answers, without cross-validation; when
the folder is the one the active head was trained on, the report says it measures fit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tunelens.heads.linear import task_vocabulary
from tunelens.pipeline import build_reader, encoder_info
from tunelens.reading.reader import Reader
from tunelens.training.folders import (
    EMBED_BATCH,
    EmbeddedFolder,
    Task,
    embed_folder,
    infer_task,
    scan_folder,
)
from tunelens.training.linear import encoder_block
from tunelens.training.run import TrainingRun
from tunelens.training.scores import majority_baseline, scores, verdict


def evaluate(images: Path, task: Task | None, run: TrainingRun) -> dict[str, Any]:
    """The report of the reader the engine would build (trained heads included) on a folder."""
    task = task or infer_task(images)
    folder = scan_folder(images, task)
    model, notices = run.load_encoder()
    info = encoder_info(model, run.encoder_choice)
    reader, head_notices = build_reader(model, info, run.settings)
    notices.extend(head_notices)
    embedded = embed_folder(folder, model, run, keep_images=True)
    predicted = _answers(reader, embedded, task)
    vocabulary = task_vocabulary(task)
    labels = sorted(set(embedded.labels) | set(predicted), key=vocabulary.names.index)
    result = scores(embedded.labels, predicted, labels)
    baseline = majority_baseline(embedded.labels, labels)
    report: dict[str, Any] = {
        "kind": "evaluation",
        "task": task,
        "encoder": encoder_block(model),
        "head": reader.head_info()[task],
        "images_dir": str(images),
        "images": len(embedded.labels),
        "images_digest": embedded.digest,
        "class_counts": dict(sorted(Counter(embedded.labels).items())),
        "skipped": embedded.skipped,
        **result,
        "baseline": baseline,
        "notices": notices,
    }
    if result["accuracy"] is not None and embedded.labels:
        passed, p_value, sentence = verdict(
            result["accuracy"], baseline["accuracy"], len(embedded.labels)
        )
        report.update(p_value=p_value, passed=passed, verdict=sentence)
    head = reader.trained.get(task)
    if head is not None and head.report.get("images_digest") == embedded.digest:
        report["warning"] = (
            "These are the pictures the head was trained on: this measures fit, not how it "
            "does on new pictures (see the head's cross-validated report for that)."
        )
    return report


def _answers(reader: Reader, embedded: EmbeddedFolder, task: Task) -> list[str]:
    """The reader's top answer for ``task`` on every embedded picture."""
    names = task_vocabulary(task).names
    predicted: list[str] = []
    for start in range(0, len(embedded.images), EMBED_BATCH):
        chunk = embedded.images[start : start + EMBED_BATCH]
        rows = embedded.embeddings[start : start + EMBED_BATCH]
        emotion_p, genre_p = reader.probabilities(chunk, rows)
        probabilities = emotion_p if task == "emotion" else genre_p
        predicted.extend(names[int(j)] for j in probabilities.argmax(axis=1))
    return predicted


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def format_report(report: Mapping[str, Any]) -> str:
    """A reading-head report (cross-validated or evaluation) as plain text for the terminal."""
    enc = report.get("encoder", {})
    title = "cross-validated head report" if report.get("kind") == "cross-validated" else "eval"
    lines = [
        f"{title}: task {report.get('task')}, encoder {enc.get('name')} ({enc.get('model_id')}), "
        f"{report.get('images')} pictures"
    ]
    if report.get("kind") == "evaluation":
        head = report.get("head", {})
        lines.append(
            "  reading with: "
            + (
                f"trained head {head.get('version')}"
                if head.get("kind") == "trained"
                else str(head.get("kind"))
            )
        )
    if report.get("cv"):
        lines.append(f"  {report['cv']['folds']}-fold stratified cross-validation")
    lines.append(
        "  class counts: " + ", ".join(f"{k} {v}" for k, v in report["class_counts"].items())
    )
    lines.extend(_score_table(report))
    lines.extend(_confusion_lines(report.get("confusion_matrix")))
    if report.get("skipped"):
        lines.append(f"  skipped {len(report['skipped'])} unreadable pictures")
    if report.get("verdict"):
        lines.append(f"  verdict: {report['verdict']}")
    if report.get("warning"):
        lines.append(f"  warning: {report['warning']}")
    return "\n".join(lines)


def _score_table(report: Mapping[str, Any]) -> list[str]:
    baseline = report.get("baseline", {})
    return [
        f"  {'':<22}{'accuracy':>10}{'macro-F1':>10}",
        f"  {'head' if report.get('kind') == 'cross-validated' else 'reader':<22}"
        f"{_pct(report.get('accuracy')):>10}{_pct(report.get('macro_f1')):>10}",
        f"  {'majority (' + str(baseline.get('label')) + ')':<22}"
        f"{_pct(baseline.get('accuracy')):>10}{_pct(baseline.get('macro_f1')):>10}",
    ]


def _confusion_lines(matrix: Mapping[str, Any] | None) -> list[str]:
    if not matrix:
        return []
    labels = matrix["labels"]
    width = max(8, *(len(label) + 1 for label in labels))
    lines = [
        "  confusion matrix (rows: true label, columns: answer)",
        "  " + " " * width + "".join(f"{label:>{width}}" for label in labels),
    ]
    for label, row in zip(labels, matrix["rows"], strict=True):
        lines.append(f"  {label:<{width}}" + "".join(f"{n:>{width}}" for n in row))
    return lines
