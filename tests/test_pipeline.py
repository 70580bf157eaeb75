"""The pipeline as front ends use it: settings that must reach the ranking, and an encoder
wrapped by micro-batching that must keep its capabilities."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core.settings import get_settings
from tunelens.pipeline import RecommendOptions, build_pipeline
from tunelens.recommend.preferences import Preferences
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.microbatch import MicroBatchingEncoder

PHOTOS = ["kite_blue_sky_clouds_01.jpg", "portrait_grace_hopper_01.jpg"]


def _photo(name: str) -> Path:
    path = require_shared(PHOTOS_DIR) / name
    return require_shared(path)


@pytest.mark.parametrize("cap", [1, 2])
def test_max_per_artist_setting_reaches_the_ranking(
    cap: int, spotify_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNELENS_MAX_PER_ARTIST", str(cap))
    get_settings.cache_clear()
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    for name in PHOTOS:
        answer = pipeline.recommend_file(_photo(name), RecommendOptions(k=20))
        per_artist = Counter(item.track.artist.casefold() for item in answer.tracks)
        assert len(answer.tracks) == 20
        assert max(per_artist.values()) <= cap


def test_preferences_leave_songs_and_artists_out(spotify_catalog: Path) -> None:
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    photo = _photo(PHOTOS[0])
    first = pipeline.recommend_file(photo, RecommendOptions(k=10))
    gone_song, gone_artist = first.tracks[0].track.id, first.tracks[1].track.artist
    prefs = Preferences(exclude=frozenset({gone_song}), exclude_artists=frozenset({gone_artist}))
    second = pipeline.recommend_file(photo, RecommendOptions(k=10), prefs)
    assert gone_song not in {item.track.id for item in second.tracks}
    assert gone_artist not in {item.track.artist for item in second.tracks}


def test_wrapped_colour_encoder_measures_colour_once(
    spotify_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Micro-batching wraps the encoder; its colour embedding must still come from the
    statistics the reader measured, not from a second pass over the pixels."""
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    plain = pipeline.recommend_file(_photo(PHOTOS[0]), RecommendOptions(k=5))
    pipeline.encoder = MicroBatchingEncoder(pipeline.encoder, max_batch=4)

    def second_pass(self: ColourEncoder, images: object) -> object:
        raise AssertionError("colour statistics measured twice")

    monkeypatch.setattr(ColourEncoder, "embed_images", second_pass)
    wrapped = pipeline.recommend_file(_photo(PHOTOS[0]), RecommendOptions(k=5))
    assert [t.track.id for t in wrapped.tracks] == [t.track.id for t in plain.tracks]


def test_similar_never_returns_the_seed(spotify_catalog: Path) -> None:
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    answer = pipeline.recommend_file(_photo(PHOTOS[0]), RecommendOptions(k=5))
    seed = answer.tracks[0].track.id
    result = pipeline.similar(
        seed, RecommendOptions(k=5), reading=answer.reading, target=answer.target
    )
    assert seed not in {item.track.id for item in result.tracks}
    assert result.seed.id == seed and len(result.tracks) == 5


def test_explanations_name_only_the_catalogues_genres(spotify_catalog: Path) -> None:
    """The default catalogue has no jazz or classical: the words never lean on them, and the
    colour reader says it sees colour and light only."""
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    present = set(pipeline.recommender.profiles.genres.present)
    absent = [g for g in pipeline.reader.genres.names if g not in present]
    assert "jazz" in absent
    for name in PHOTOS:
        answer = pipeline.recommend_file(_photo(name), RecommendOptions(k=10))
        assert answer.explanation is not None
        text = answer.explanation.text
        assert not [g for g in absent if f" {g}" in text.lower()], text
        assert "not what the picture shows" in text
        worded = pipeline.reword(answer, "es")
        assert worded.explanation is not None and "jazz" not in worded.explanation.text


def test_answers_without_words_have_the_same_songs(spotify_catalog: Path) -> None:
    """``words=False`` (batch lines show no words) skips the reasons, the explanation and the
    shown labels; the reading, target, songs, scores and parts are those of a worded answer."""
    pipeline = build_pipeline(encoder="colour", catalog_dir=spotify_catalog)
    photo = _photo(PHOTOS[1])
    worded = pipeline.recommend_file(photo, RecommendOptions(k=10))
    bare = pipeline.recommend_file(photo, RecommendOptions(k=10, words=False))
    assert worded.explanation is not None and worded.labels is not None
    assert any(item.reasons for item in worded.tracks)
    assert bare.explanation is None and bare.labels is None
    assert all(item.reasons == [] for item in bare.tracks)
    assert "explain" not in bare.timings_ms
    assert bare.reading == worded.reading and bare.target == worded.target
    strip = {"reasons"}
    assert [t.model_dump(exclude=strip) for t in bare.tracks] == [
        t.model_dump(exclude=strip) for t in worded.tracks
    ]
