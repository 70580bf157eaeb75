"""The album line: one playlist for a whole batch run, written last.

It is recommended from the album's mean reading (mean emotion and genre probabilities, mean
valence/arousal and colour, the scenes most photos share) and the mean of the photos' audio
targets, over every ``ok`` line in the file, including photos done by earlier, interrupted
runs. The targets are the ones the pipeline actually ranked each photo against, so an active
learned feature head shapes the album exactly as it shaped the photos; a line written before
photo lines recorded their target falls back to the documented mapping of its reading.

The record::

    {"type": "album", "photos": 4, "errors": 2, "reading": {…Reading…},
     "target": {"features": {…}, "weights": {…}}, "tracks": [{"rank", "id", …}, …]}

(``"reading": null, "tracks": []`` and no ``target`` when no photo could be read.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tunelens.batch.output import Line, track_line
from tunelens.core.types import AudioTarget, Reading
from tunelens.pipeline import Pipeline

#: decimals of the album's mean reading and target (the lines' own precision)
DECIMALS = 4


def _mean_of(values: Iterable[dict[str, float]], n: int) -> dict[str, float]:
    """Per key, the sum over ``values`` divided by ``n`` (missing keys count as 0)."""
    total: dict[str, float] = {}
    for mapping in values:
        for key, value in mapping.items():
            total[key] = total.get(key, 0.0) + value / n
    return total


def mean_reading(readings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The album's reading: means of probabilities, valence/arousal and colour statistics."""
    n = len(readings)
    emotions = _mean_of((r["emotions"] for r in readings), n)
    genres = _mean_of((r["genres"] for r in readings), n)
    colour = _mean_of(
        ({k: v for k, v in r["colour"].items() if isinstance(v, int | float)} for r in readings),
        n,
    )
    scene_scores: Counter[str] = Counter()
    for reading in readings:
        for scene in reading.get("scenes", []):
            scene_scores[scene["name"]] += scene["score"] / n
    hues = Counter(r["colour"].get("dominant_hue", "grey") for r in readings)
    return {
        "emotions": {k: round(v, DECIMALS) for k, v in emotions.items()},
        "top_emotion": max(emotions, key=lambda e: emotions[e]),
        "valence": round(float(np.mean([r["valence"] for r in readings])), DECIMALS),
        "arousal": round(float(np.mean([r["arousal"] for r in readings])), DECIMALS),
        "genres": {k: round(v, DECIMALS) for k, v in genres.items()},
        "scenes": [
            {"name": name, "score": round(score, DECIMALS)}
            for name, score in scene_scores.most_common(3)
        ],
        "colour": {
            **{k: round(v, DECIMALS) for k, v in colour.items()},
            "dominant_hue": hues.most_common(1)[0][0],
        },
        "encoder": readings[0]["encoder"],
        "context": None,
    }


def mean_target(targets: Sequence[AudioTarget]) -> AudioTarget:
    """The album's target: per feature, the mean of the photos' target values and weights
    (over the photos whose target names that feature)."""

    def mean(part: Sequence[dict[str, float]]) -> dict[str, float]:
        names = dict.fromkeys(name for values in part for name in values)
        return {
            name: round(float(np.mean([v[name] for v in part if name in v])), DECIMALS)
            for name in names
        }

    return AudioTarget(
        features=mean([t.features for t in targets]),
        weights=mean([t.weights for t in targets]),
        genres=mean([t.genres for t in targets]),
    )


def photo_target(pipeline: Pipeline, line: Line) -> AudioTarget:
    """The target an ``ok`` line was ranked against; for lines written before lines kept it,
    the mapping target of the line's reading."""
    if "target" in line:
        return AudioTarget.model_validate(line["target"])
    return pipeline.target_for(Reading.model_validate(line["reading"]), None)


def album_line(pipeline: Pipeline, lines: Iterable[Line], size: int) -> Line:
    """The album record: one playlist for every ``ok`` photo line (see the module docstring)."""
    photo_lines = [line for line in lines if line.get("type") == "photo"]
    # sorted, so the album does not depend on the order workers finished in
    ok = sorted(
        (line for line in photo_lines if line.get("status") == "ok"), key=lambda x: x["photo"]
    )
    record: Line = {"type": "album", "photos": len(ok), "errors": len(photo_lines) - len(ok)}
    if not ok:
        record.update(reading=None, tracks=[])
        return record
    reading = Reading.model_validate(mean_reading([line["reading"] for line in ok]))
    target = mean_target([photo_target(pipeline, line) for line in ok])
    tracks = pipeline.album(reading, target, min(size, pipeline.settings.max_top_k))
    record.update(
        reading=reading.model_dump(mode="json"),
        target=target.model_dump(mode="json"),
        tracks=[track_line(item) for item in tracks],
    )
    return record
