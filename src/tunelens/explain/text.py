"""The explanation in words: deterministic sentences over the reading, never the network.

What a picture's explanation says, in order: the top emotion (and the runner-up), valence and
arousal in words; the scene tags; the light and colour; the region of the picture the mood
comes from (when a heatmap was made); the faces' expressions (when faces were read); and the
vibe genres. Each sentence is a gettext message (English ``msgid``, translated in
``locales/<lang>/LC_MESSAGES/messages.po``); names come from :mod:`tunelens.i18n.labels`,
numbers and lists are formatted per locale by Babel. A language without a catalogue gets
English, so a missing translation never breaks the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunelens.core.types import Reading
from tunelens.explain.heatmap import HotRegion
from tunelens.i18n import DEFAULT_LANG, Translator, translator
from tunelens.reading.faces import EXPRESSION_TO_EMOTIONS

# --- words for numbers ----------------------------------------------------------------------


def valence_words(valence: float, t: Translator) -> str:
    if valence > 0.3:
        return t.pgettext("valence", "bright and pleasant")
    if valence < -0.3:
        return t.pgettext("valence", "dark and sombre")
    return t.pgettext("valence", "bittersweet")


def arousal_words(arousal: float, t: Translator) -> str:
    if arousal > 0.3:
        return t.pgettext("arousal", "lively")
    if arousal < -0.3:
        return t.pgettext("arousal", "calm")
    return t.pgettext("arousal", "easy-going")


def brightness_words(brightness: float, t: Translator) -> str:
    if brightness < 0.25:
        return t.pgettext("light", "dark")
    if brightness < 0.4:
        return t.pgettext("light", "dim")
    if brightness < 0.6:
        return t.pgettext("light", "soft")
    return t.pgettext("light", "bright")


def saturation_words(saturation: float, t: Translator) -> str:
    if saturation < 0.08:
        return t.pgettext("colours", "muted")
    if saturation < 0.18:
        return t.pgettext("colours", "gentle")
    if saturation < 0.3:
        return t.pgettext("colours", "rich")
    return t.pgettext("colours", "vivid")


# --- regions --------------------------------------------------------------------------------


def content_label(region: HotRegion, t: Translator) -> str | None:
    if not region.content:
        return None
    if region.content_kind == "scene":
        return t.label("scene", region.content)
    if region.content_kind == "hue":
        return t.gettext("%(hue)s tones", hue=t.label("hue", region.content))
    return t.label("content", region.content)


def region_name(region: HotRegion, t: Translator) -> str:
    return t.label("region", region.key)


def region_label(region: HotRegion, lang: str = DEFAULT_LANG) -> str:
    """The words summary of one hot region, e.g. ``upper third: sky``."""
    t = translator(lang)
    content = content_label(region, t)
    name = region_name(region, t)
    if content:
        return t.gettext("%(region)s: %(content)s", region=name, content=content)
    return name


def region_phrase(region: HotRegion, t: Translator) -> str:
    content = content_label(region, t)
    name = region_name(region, t)
    if content:
        return t.gettext("the %(region)s (%(content)s)", region=name, content=content)
    return t.gettext("the %(region)s", region=name)


# --- the explanation --------------------------------------------------------------------------


def _mood_sentence(reading: Reading, t: Translator) -> str:
    ranked = sorted(reading.emotions.items(), key=lambda kv: -kv[1])
    top, p_top = ranked[0]
    values = {
        "emotion": t.label("emotion", top),
        "percent": t.percent(p_top),
        "valence_words": valence_words(reading.valence, t),
        "arousal_words": arousal_words(reading.arousal, t),
        "valence": t.signed(reading.valence),
        "arousal": t.signed(reading.arousal),
    }
    if len(ranked) > 1 and ranked[1][1] >= 0.15:
        return t.gettext(
            "tunelens reads this picture as %(emotion)s (%(percent)s), with some %(second)s: "
            "%(valence_words)s and %(arousal_words)s (valence %(valence)s, arousal %(arousal)s).",
            second=t.label("emotion", ranked[1][0]),
            **values,
        )
    return t.gettext(
        "tunelens reads this picture as %(emotion)s (%(percent)s): %(valence_words)s and "
        "%(arousal_words)s (valence %(valence)s, arousal %(arousal)s).",
        **values,
    )


def _colour_sentence(reading: Reading, t: Translator) -> str:
    colour = reading.colour
    brightness = brightness_words(colour.brightness, t)
    if colour.dominant_hue == "grey":
        return t.gettext(
            "The light is %(brightness)s and the picture is nearly colourless.",
            brightness=brightness,
        )
    return t.gettext(
        "The light is %(brightness)s and the colours are %(saturation)s, mostly %(hue)s.",
        brightness=brightness,
        saturation=saturation_words(colour.saturation, t),
        hue=t.label("hue", colour.dominant_hue),
    )


def _faces_sentence(reading: Reading, t: Translator) -> str | None:
    faces = reading.faces or []
    if not faces:
        return None
    strongest = max(
        faces,
        key=lambda f: (f.top_expression != "neutral", f.expressions.get(f.top_expression, 0.0)),
    )
    if strongest.top_expression == "neutral":
        return t.ngettext(
            "One face with a neutral expression, so the mood is read from the rest of the picture.",
            "%(count)s faces with neutral expressions, so the mood is read from the rest of "
            "the picture.",
            len(faces),
        )
    emotions = [t.label("emotion", e) for e in EXPRESSION_TO_EMOTIONS[strongest.top_expression]]
    return t.ngettext(
        "One face looks %(expression)s (%(percent)s), which pulls the mood towards %(emotions)s.",
        "%(count)s faces; the strongest expression is %(expression)s (%(percent)s), which "
        "pulls the mood towards %(emotions)s.",
        len(faces),
        expression=t.label("expression", strongest.top_expression),
        percent=t.percent(strongest.expressions.get(strongest.top_expression, 0.0)),
        emotions=t.join(emotions),
    )


def explanation_text(
    reading: Reading,
    *,
    lang: str = DEFAULT_LANG,
    regions: Sequence[HotRegion] | None = None,
    heatmap_target: str | None = None,
    heatmap_target_kind: str = "emotion",
) -> str:
    """The whole explanation as one paragraph in ``lang`` (English when it has no catalogue).

    ``regions`` is ``None`` when no heatmap was made (no region sentence), an empty list when
    one was made and no region stood out.
    """
    t = translator(lang)
    sentences = [_mood_sentence(reading, t)]
    if reading.scenes:
        scenes = t.join([t.label("scene", s.name) for s in reading.scenes])
        sentences.append(t.gettext("It looks like %(scenes)s.", scenes=scenes))
    sentences.append(_colour_sentence(reading, t))
    if regions is not None:
        target_name = heatmap_target or reading.top_emotion
        kind = "genre" if heatmap_target_kind == "genre" else "emotion"
        target = t.label(kind, target_name)
        if regions:
            phrases = t.join([region_phrase(r, t) for r in regions])
            sentences.append(
                t.gettext(
                    "The %(target)s comes mostly from %(regions)s.", target=target, regions=phrases
                )
            )
        else:
            sentences.append(
                t.gettext(
                    "No single region carries the %(target)s: it comes from the picture as a "
                    "whole.",
                    target=target,
                )
            )
    faces = _faces_sentence(reading, t)
    if faces:
        sentences.append(faces)
    genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])
    if len(genres) >= 2:
        sentences.append(
            t.gettext(
                "Its vibe is mostly %(genre)s, then %(genre2)s, so the songs lean that way.",
                genre=t.label("genre", genres[0][0]),
                genre2=t.label("genre", genres[1][0]),
            )
        )
    if reading.encoder.name == "colour":
        sentences.append(t.gettext("(Read from colour and light only: no CLIP model is loaded.)"))
    return " ".join(s for s in sentences if s)
