"""An answer worded again in another language: the same regions, heatmap and songs, new words."""

from __future__ import annotations

from tests.explain.helpers import make_reading
from tunelens.core.types import (
    AudioTarget,
    Explanation,
    HotRegionOut,
    Recommendation,
    RecommendedTrack,
    TrackOut,
)
from tunelens.explain.answer import answer_labels, reword, reword_explanation
from tunelens.explain.heatmap import HotRegion
from tunelens.explain.text import HeatmapWords, explanation_text, region_label

SKY = HotRegion(row="upper", col=None, share=0.7, content="sky", content_kind="feature")


def _explanation(lang: str) -> Explanation:
    reading = make_reading()
    return Explanation(
        text=explanation_text(reading, lang=lang, heatmap=HeatmapWords([SKY], "sadness")),
        lang=lang,
        mood="sad",
        hot_regions=[
            HotRegionOut(
                row=SKY.row,
                col=SKY.col,
                share=SKY.share,
                content=SKY.content,
                content_kind=SKY.content_kind,
                label=region_label(SKY, lang),
            )
        ],
        heatmap="data:image/png;base64,AAAA",
        heatmap_method="occlusion",
        heatmap_target="emotion:sadness",
    )


def test_the_explanation_is_written_again_as_if_asked_in_that_language() -> None:
    reading = make_reading()
    worded = reword_explanation(_explanation("en"), reading, "es")
    assert worded == _explanation("es")  # exactly what a Spanish request would have said
    assert worded.heatmap == "data:image/png;base64,AAAA"  # the overlay is kept as it was


def test_without_a_heatmap_there_is_no_region_sentence() -> None:
    reading = make_reading()
    plain = Explanation(text=explanation_text(reading, lang="en"), lang="en", mood="sad")
    assert reword_explanation(plain, reading, "fr").text == explanation_text(reading, lang="fr")


def _track(track_id: str, reasons: list[str]) -> RecommendedTrack:
    out = TrackOut(id=track_id, title=track_id, artist="someone")
    return RecommendedTrack(rank=1, score=0.5, parts={"mood": 0.5}, reasons=reasons, track=out)


def test_reword_takes_the_new_reasons_of_the_songs_it_was_given() -> None:
    reading = make_reading()
    rec = Recommendation(
        image_sha256="0" * 64,
        reading=reading,
        target=AudioTarget(features={"valence": 0.3}, weights={"valence": 1.0}),
        tracks=[_track("a", ["old a"]), _track("b", ["old b"])],
        catalogue_size=2,
        explanation=_explanation("en"),
    )
    out = reword(rec, [_track("a", ["nuevo a"])], "es")
    assert [t.reasons for t in out.tracks] == [["nuevo a"], ["old b"]]
    assert out.explanation == _explanation("es")
    assert out.labels == answer_labels(reading, "sad", "es")
    assert rec.tracks[0].reasons == ["old a"]  # the kept answer itself is not changed
