"""The explanation of one reading: the text, the mood, and on request the heatmap with the
regions that mattered, each region named in the listener's language."""

from __future__ import annotations

from dataclasses import dataclass

from tunelens.core import vocab
from tunelens.core.types import (
    Explanation,
    HotRegionOut,
    Labels,
    Reading,
    Recommendation,
    RecommendedTrack,
)
from tunelens.explain.heatmap import HeatmapRequest, HotRegion
from tunelens.explain.saliency import compute_heatmap
from tunelens.explain.text import HeatmapWords, explanation_text, region_label
from tunelens.i18n import resolve as resolve_language
from tunelens.i18n import translator
from tunelens.i18n.labels import label
from tunelens.reading.reader import Reader
from tunelens.recommend.mapping import MoodPoint
from tunelens.vision.base import Encoder
from tunelens.vision.imaging import LoadedImage


@dataclass(frozen=True)
class ExplainRequest:
    """What the listener asked to be told: in which language, and whether with the heatmap
    (whose masked copies are read with the same words, ``context``, as the picture was);
    ``point`` is what the mapping asked the songs for (the picture's place among photos and
    its vibe over the loaded catalogue's genres), so the words name what the songs follow."""

    heatmap: bool = False
    lang: str = "en"
    context: str | None = None
    point: MoodPoint | None = None


def explain_reading(
    encoder: Encoder,
    reader: Reader,
    image: LoadedImage,
    reading: Reading,
    request: ExplainRequest | None = None,
) -> Explanation:
    """The template explanation of a reading, with the heatmap and its regions on request."""
    request = request or ExplainRequest()
    lang = resolve_language(request.lang)
    mood = vocab.mood_of(reading.valence, reading.arousal)
    if not request.heatmap:
        text = explanation_text(reading, lang=lang, point=request.point)
        return Explanation(text=text, lang=lang, mood=mood)
    hm = compute_heatmap(encoder, reader, image, reading, HeatmapRequest(context=request.context))
    return Explanation(
        text=explanation_text(
            reading,
            lang=lang,
            point=request.point,
            heatmap=HeatmapWords(hm.regions, hm.target, hm.target_kind),
        ),
        lang=lang,
        mood=mood,
        hot_regions=[
            HotRegionOut(
                row=r.row,
                col=r.col,
                share=r.share,
                content=r.content,
                content_kind=r.content_kind,
                label=region_label(r, lang),
            )
            for r in hm.regions
        ],
        heatmap=hm.data_url(image.pixels),
        heatmap_method=hm.method,
        heatmap_target=f"{hm.target_kind}:{hm.target}",
    )


def reword_explanation(
    explanation: Explanation, reading: Reading, lang: str, point: MoodPoint | None = None
) -> Explanation:
    """The same explanation — same regions, same heatmap — written in ``lang`` (``point``: the
    mapping's, as in :class:`ExplainRequest`).

    The page keeps a visitor's answer when they switch language; only the words change, so
    the regions are named again from what the heatmap found, not measured again."""
    lang = resolve_language(lang)
    regions = [
        HotRegion(r.row, r.col, r.share, content=r.content, content_kind=r.content_kind)
        for r in explanation.hot_regions
    ]
    kind, _, target = (explanation.heatmap_target or "").partition(":")
    heatmap = None
    if explanation.heatmap_method:
        heatmap = HeatmapWords(regions, target or None, kind or "emotion")
    text = explanation_text(reading, lang=lang, point=point, heatmap=heatmap)
    hot = [
        r.model_copy(update={"label": region_label(region, lang)})
        for r, region in zip(explanation.hot_regions, regions, strict=True)
    ]
    return explanation.model_copy(update={"text": text, "lang": lang, "hot_regions": hot})


def answer_labels(reading: Reading, mood: str | None, lang: str) -> Labels:
    """The shown names of one answer's ids, so a client can show them without a table."""
    tr = translator(lang)
    return Labels(
        lang=tr.lang,
        emotions={name: label(tr, "emotion", name) for name in reading.emotions},
        genres={name: label(tr, "genre", name) for name in reading.genres},
        scenes={s.name: label(tr, "scene", s.name) for s in reading.scenes},
        mood=label(tr, "mood", mood) if mood else None,
    )


def reword(
    rec: Recommendation,
    worded: list[RecommendedTrack],
    lang: str,
    point: MoodPoint | None = None,
) -> Recommendation:
    """``rec`` in ``lang``: the reasons of ``worded`` (the same songs worded again; a song not
    among them keeps its reasons), the explanation and the shown names (``point``: the
    mapping's, as in :class:`ExplainRequest`)."""
    reasons = {t.track.id: t.reasons for t in worded}
    tracks = [
        t.model_copy(update={"reasons": reasons.get(t.track.id, t.reasons)}) for t in rec.tracks
    ]
    explanation = rec.explanation and reword_explanation(rec.explanation, rec.reading, lang, point)
    labels = answer_labels(rec.reading, explanation.mood if explanation else None, lang)
    return rec.model_copy(update={"tracks": tracks, "explanation": explanation, "labels": labels})
