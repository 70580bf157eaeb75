"""The moods harness: mood shares per group, diversity, exposure, and the report end to end
on synthetic pictures and a small mood-labelled catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.quality.conftest import mood_tracks, shared_like
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import get_settings
from tunelens.pipeline import build_pipeline
from tunelens.quality.moods import (
    MoodsJob,
    answer,
    diversity,
    evaluate_moods,
    mood_agreement,
    share,
    top_ids,
)
from tunelens.quality.photos import BRIGHT, SERENE, SOMBRE, SharedPhoto
from tunelens.vision.exposure import shifted_exposure
from tunelens.vision.imaging import LoadedImage


def test_share_counts_slots() -> None:
    labels = [["Happy", "Calm"], ["Sad", None]]
    assert share(labels, ("Happy", "Sad")) == 0.5
    assert share(labels, ("Energetic",)) == 0.0
    assert share([], ("Calm",)) is None


def test_mood_agreement_per_group() -> None:
    photos = [
        SharedPhoto("a.jpg", "Bright, cheerful."),
        SharedPhoto("b.jpg", "Gloomy."),
        SharedPhoto("c.jpg", "Serene."),
        SharedPhoto("d.jpg", "A motorcycle."),
    ]
    labels = [
        ["Happy", "Energetic", "Calm", "Happy"],
        ["Sad", "Calm", "Happy", "Sad"],
        ["Calm", "Sad", "Sad", "Sad"],
        ["Calm", "Calm", "Calm", "Calm"],
    ]
    result = mood_agreement(photos, labels)
    groups = result["groups"]
    assert groups[BRIGHT]["photos"] == ["a.jpg"] and groups[BRIGHT]["suited_share"] == 0.75
    assert groups[SOMBRE]["suited_share"] == 0.75
    assert groups[SERENE]["suited_share"] == 0.25
    assert groups[SERENE]["mood_shares"] == {
        "Happy": 0.0,
        "Energetic": 0.0,
        "Calm": 0.25,
        "Sad": 0.75,
    }
    assert result["calm_share_all"] == 7 / 16
    assert result["ungrouped"] == ["d.jpg"]


def test_diversity() -> None:
    names = {"x": Track(id="x", title="X", artist="Ax"), "y": Track(id="y", title="Y", artist="Ay")}
    result = diversity([["x", "y"], ["x", "z"], ["x", "y"]], names.get)
    assert (result["slots"], result["distinct"], result["max_times"]) == (6, 3, 3)
    assert result["most_repeated"][0] == {"id": "x", "title": "X", "artist": "Ax", "times": 3}
    assert result["most_repeated"][2]["title"] is None  # "z" is not in the catalogue


def test_an_unchanged_picture_keeps_its_songs(mood_catalog: Path) -> None:
    """The overlap measure's ceiling: answering the same pixels twice keeps all songs."""
    pipeline = build_pipeline(get_settings(), encoder="colour", catalog_dir=mood_catalog)
    rng = np.random.default_rng(1)
    image = LoadedImage.from_array(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))
    first = top_ids(answer(pipeline, [image], 5))
    again = top_ids(answer(pipeline, [shifted_exposure(image, 1.0)], 5))
    assert first == again and len(first[0]) == 5


def test_report_end_to_end(tmp_path: Path, mood_catalog: Path) -> None:
    photos = shared_like(tmp_path)
    job = MoodsJob(photos, mood_catalog, songs_catalog=mood_catalog, encoder="colour", top=5)
    report = evaluate_moods(get_settings(), job)
    json.dumps(report, allow_nan=False)
    assert report["photos"] == 6 and len(report["readings"]) == 6
    assert sum(report["catalogue_moods"].values()) == pytest.approx(1.0, abs=1e-3)
    for group in (BRIGHT, SOMBRE, SERENE):
        block = report["agreement"]["groups"][group]
        assert len(block["photos"]) == 2
        # the group's share is the readings table's counts of its suited labels
        rows = [r for r in report["readings"] if r["group"] == group]
        suited = sum(r["moods"].get(m, 0) for r in rows for m in block["suited_moods"])
        assert block["suited_share"] == pytest.approx(suited / (5 * len(rows)), abs=1e-4)
    songs = report["songs"]
    assert songs["diversity"]["slots"] == 30
    assert 1 <= songs["diversity"]["distinct"] <= 30
    assert 0 <= songs["exposure"]["min_kept"] <= songs["exposure"]["mean_kept"] <= 5
    for row in report["readings"]:
        assert -1 <= row["valence"] <= 1 and -1 <= row["arousal"] <= 1
        assert row["alarmed"] == (
            row["calm_bright_or_warm"] and row["top_emotion"] in ("fear", "anger")
        )


def test_no_songs_part_and_a_catalogue_without_moods(tmp_path: Path, mood_catalog: Path) -> None:
    photos = shared_like(tmp_path)
    job = MoodsJob(photos, mood_catalog, songs=False, encoder="colour", top=3)
    assert evaluate_moods(get_settings(), job)["songs"] is None
    plain = tmp_path / "plain"
    tracks = [
        Track(id=t.id, title=t.title, artist=t.artist, features=t.features) for t in mood_tracks(30)
    ]
    CatalogueIndex.build(Catalogue(tracks)).save(plain)
    with pytest.raises(InvalidRequest, match="no mood labels"):
        evaluate_moods(get_settings(), MoodsJob(photos, plain, songs=False, encoder="colour"))
