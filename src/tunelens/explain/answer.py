"""The explanation of one reading: the text, the mood, and on request the heatmap with the
regions that mattered, each region named in the listener's language."""

from __future__ import annotations

from dataclasses import dataclass

from tunelens.core import vocab
from tunelens.core.types import Explanation, HotRegionOut, Labels, Reading
from tunelens.explain.heatmap import HeatmapRequest
from tunelens.explain.saliency import compute_heatmap
from tunelens.explain.text import explanation_text, region_label
from tunelens.i18n import resolve as resolve_language
from tunelens.i18n import translator
from tunelens.i18n.labels import label
from tunelens.reading.reader import Reader
from tunelens.vision.base import Encoder
from tunelens.vision.imaging import LoadedImage


@dataclass(frozen=True)
class ExplainRequest:
    """What the listener asked to be told: in which language, and whether with the heatmap
    (whose masked copies are read with the same words, ``context``, as the picture was)."""

    heatmap: bool = False
    lang: str = "en"
    context: str | None = None


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
        return Explanation(text=explanation_text(reading, lang=lang), lang=lang, mood=mood)
    hm = compute_heatmap(encoder, reader, image, reading, HeatmapRequest(context=request.context))
    return Explanation(
        text=explanation_text(
            reading,
            lang=lang,
            regions=hm.regions,
            heatmap_target=hm.target,
            heatmap_target_kind=hm.target_kind,
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
