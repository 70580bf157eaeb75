"""The album line: the mean reading and the mean of the photos' own targets, ranked by the
pipeline; old lines without a target fall back to the mapping target of their reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from tests.batch.fakes import AlbumPipeline, error_photo, ok_photo, reading_dict, target_dict
from tunelens.batch.album import album_line, mean_reading, mean_target, photo_target
from tunelens.core.settings import Settings
from tunelens.core.types import AudioTarget, Reading
from tunelens.pipeline import build_pipeline
from tunelens.recommend.mapping import target_profile


def _album(pipeline: AlbumPipeline, lines: list[dict[str, Any]], size: int = 20) -> Any:
    return album_line(cast(Any, pipeline), lines, size)


def test_the_album_target_is_the_mean_of_the_photo_targets() -> None:
    pipeline = AlbumPipeline()
    lines = [
        ok_photo("b.jpg", reading_dict(0.2), target_dict(valence=0.2, energy=0.9)),
        error_photo("c.jpg"),
        ok_photo("a.jpg", reading_dict(0.6), target_dict(valence=0.6, energy=0.3)),
    ]
    record = _album(pipeline, lines)
    assert (record["type"], record["photos"], record["errors"]) == ("album", 2, 1)
    assert record["target"]["features"] == {"valence": 0.4, "energy": 0.6}
    [(reading, target, size)] = pipeline.calls
    assert target.features == {"valence": 0.4, "energy": 0.6} and size == 20
    assert reading.valence == pytest.approx(0.4)
    assert record["tracks"] == [
        {"rank": 1, "id": "s1", "title": "Song", "artist": "Artist", "genre": "pop", "score": 0.9}
    ]


def test_the_album_size_is_capped_by_the_settings() -> None:
    pipeline = AlbumPipeline()
    _album(pipeline, [ok_photo("a.jpg", reading_dict(), target_dict(valence=0.5))], size=500)
    assert pipeline.calls[0][2] == pipeline.settings.max_top_k


def test_lines_without_a_target_use_the_mapping_of_their_reading(tiny_catalog: Path) -> None:
    """Outputs written before photo lines kept their target still resume into an album."""
    pipeline = build_pipeline(Settings(), encoder="colour", catalog_dir=tiny_catalog)
    old = ok_photo("old.jpg", reading_dict(0.8, 0.5, genre="rock"), None)
    mapped = target_profile(
        Reading.model_validate(old["reading"]),
        pipeline.recommender.profiles,
        pipeline.reader.scale,  # placed on the reader's own scale, as the photo was answered
    )
    assert photo_target(pipeline, old) == mapped
    new = ok_photo("new.jpg", reading_dict(), target_dict(valence=0.1))
    assert photo_target(pipeline, new).features == {"valence": 0.1}
    target = album_line(pipeline, [old, new], 5)["target"]["features"]
    assert target["valence"] == pytest.approx((mapped.features["valence"] + 0.1) / 2, abs=1e-4)
    # a feature only the old line's target names is the mean over that line alone
    assert target["energy"] == pytest.approx(mapped.features["energy"])


def test_mean_target_averages_weights_too() -> None:
    targets = [
        AudioTarget(features={"valence": 0.2}, weights={"valence": 1.0}),
        AudioTarget(features={"valence": 0.4, "tempo": 120.0}, weights={"valence": 3.0}),
    ]
    mean = mean_target(targets)
    assert mean.features == {"valence": 0.3, "tempo": 120.0}
    assert mean.weights == {"valence": 2.0}


def test_no_readable_photo_gives_an_empty_album() -> None:
    pipeline = AlbumPipeline()
    record = _album(pipeline, [error_photo("a.jpg")])
    assert record == {"type": "album", "photos": 0, "errors": 1, "reading": None, "tracks": []}
    assert pipeline.calls == []


def test_the_album_does_not_depend_on_the_order_lines_finished_in() -> None:
    lines = [
        ok_photo(f"{i}.jpg", reading_dict(v, hue=h), target_dict(valence=v))
        for i, (v, h) in enumerate([(0.1, "red"), (0.5, "blue"), (0.9, "blue")])
    ]
    first, second = AlbumPipeline(), AlbumPipeline()
    assert _album(first, lines) == _album(second, lines[::-1])
    assert first.calls[0][0] == second.calls[0][0]


def test_mean_reading() -> None:
    readings = [reading_dict(0.2, 0.4, hue="red"), reading_dict(0.6, -0.2, genre="rock")]
    mean = mean_reading(readings)
    assert mean["valence"] == 0.4 and mean["arousal"] == 0.1
    assert mean["genres"] == {"pop": 0.5, "rock": 0.5}
    assert mean["emotions"] == {"contentment": 0.7, "sadness": 0.3}
    assert mean["top_emotion"] == "contentment" and mean["context"] is None
    assert mean["colour"]["brightness"] == 0.6
    assert mean["colour"]["dominant_hue"] == "red"  # a tie: the first photo's hue
    Reading.model_validate(mean)
