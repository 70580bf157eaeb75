"""The explanation in words: deterministic sentences over the reading, never the network.

What a picture's explanation says, in order: the mood, as surely as the reader is sure of it
(:mod:`tunelens.explain.certainty`: "reads as awe", "leans towards contentment", "hard to
tell"); where the picture sits among other photos — the place the songs were chosen for
(the mapping's :class:`~tunelens.recommend.mapping.MoodPoint`); the scene tags; the light and
colour; the region of the picture the reading depends on (when a heatmap was made); the faces'
expressions (when faces were read); the vibe, over the genres the loaded catalogue really has
(the mapping's folded genres, so a catalogue without jazz is never said to lean on jazz); and,
for the colour reader, that it sees colour and light only, not what the picture shows.

Each sentence is a gettext message (English ``msgid``, translated in
``locales/<lang>/LC_MESSAGES/messages.po``); names come from :mod:`tunelens.i18n.labels`,
numbers and lists are formatted per locale by Babel. A language without a catalogue gets
English, so a missing translation never breaks the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tunelens.core.types import Reading
from tunelens.explain.certainty import (
    Certainty,
    certainty,
    contradicts,
    ranked_emotions,
    second_emotion,
)
from tunelens.explain.heatmap import HotRegion
from tunelens.i18n import DEFAULT_LANG, Translator, translator
from tunelens.reading.faces import EXPRESSION_TO_EMOTIONS
from tunelens.recommend.mapping import MoodPoint

#: a picture whose signed percentile among photos is beyond this is "more … than most"
PLACE_SIDE = 1.0 / 3.0
#: below this brightness the light is no longer "soft" …
DIM_LIGHT = 0.4
#: … unless the colours are at least this saturated: a deep-blue sky or a golden-hour field
#: is dark in luma but not dim to the eye, so its colours are called deep instead
DEEP_COLOURS = 0.18
#: a second vibe genre is named from this share of the vibe
SECOND_GENRE = 0.15
#: encoders that read colour and light only (no picture content)
COLOUR_ONLY = frozenset({"colour"})

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


def valence_place(valence: float, t: Translator) -> str:
    """The picture's valence among other photos (a signed percentile), in words."""
    if valence > PLACE_SIDE:
        return t.pgettext("photo compared with most", "brighter in mood than most")
    if valence < -PLACE_SIDE:
        return t.pgettext("photo compared with most", "gloomier than most")
    return t.pgettext("photo compared with most", "neither bright nor gloomy in mood")


def arousal_place(arousal: float, t: Translator) -> str:
    """The picture's arousal among other photos (a signed percentile), in words."""
    if arousal > PLACE_SIDE:
        return t.pgettext("photo compared with most", "livelier than most")
    if arousal < -PLACE_SIDE:
        return t.pgettext("photo compared with most", "calmer than most")
    return t.pgettext("photo compared with most", "neither calm nor lively")


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


@dataclass(frozen=True)
class HeatmapWords:
    """What a heatmap found, for the words: its regions (empty: none stood out) and what it
    was computed for (the top emotion, or the top vibe genre)."""

    regions: Sequence[HotRegion]
    target: str | None = None
    target_kind: str = "emotion"


def _mood_sentence(reading: Reading, sure: Certainty, t: Translator) -> str:
    top, p_top = ranked_emotions(reading)[0]
    emotion, percent = t.label("emotion", top), t.percent(p_top)
    if sure == "clear":
        second = second_emotion(reading)
        if second is not None:
            return t.gettext(
                "tunelens reads this picture as %(emotion)s (%(percent)s), with some %(second)s.",
                emotion=emotion,
                percent=percent,
                second=t.label("emotion", second),
            )
        return t.gettext(
            "tunelens reads this picture as %(emotion)s (%(percent)s).",
            emotion=emotion,
            percent=percent,
        )
    if sure == "leaning":
        return t.gettext(
            "The mood leans towards %(emotion)s (%(percent)s), though not strongly.",
            emotion=emotion,
            percent=percent,
        )
    if not contradicts(top, reading):  # a stray tense emotion on a calm picture is not named
        return t.gettext(
            "The mood is hard to tell: no emotion stands out (the strongest, %(emotion)s, "
            "is only %(percent)s).",
            emotion=emotion,
            percent=percent,
        )
    return t.gettext("The mood is hard to tell: no emotion stands out.")


def _place_sentence(reading: Reading, point: MoodPoint | None, t: Translator) -> str:
    """Where the picture sits among other photos: the place the songs were chosen for (the
    mapping's point), else the reading's own valence and arousal in words."""
    if point is None:
        return t.gettext(
            "It is %(valence_words)s and %(arousal_words)s (valence %(valence)s, arousal "
            "%(arousal)s).",
            valence_words=valence_words(reading.valence, t),
            arousal_words=arousal_words(reading.arousal, t),
            valence=t.signed(reading.valence),
            arousal=t.signed(reading.arousal),
        )
    if max(abs(point.valence), abs(point.arousal)) <= PLACE_SIDE:
        return t.gettext(
            "Compared with other photos it sits in the middle, neither bright nor gloomy, "
            "calm nor lively, and so do the songs."
        )
    return t.gettext(
        "Compared with other photos it is %(place)s, and the songs follow that.",
        place=t.join([valence_place(point.valence, t), arousal_place(point.arousal, t)]),
    )


def _colour_sentence(reading: Reading, t: Translator) -> str:
    colour = reading.colour
    brightness = brightness_words(colour.brightness, t)
    if colour.dominant_hue == "grey":
        return t.gettext(
            "The light is %(brightness)s and the picture is nearly colourless.",
            brightness=brightness,
        )
    saturation = saturation_words(colour.saturation, t)
    hue = t.label("hue", colour.dominant_hue)
    if colour.brightness < DIM_LIGHT and colour.saturation >= DEEP_COLOURS:
        return t.gettext(
            "The colours are deep and %(saturation)s, mostly %(hue)s.",
            saturation=saturation,
            hue=hue,
        )
    return t.gettext(
        "The light is %(brightness)s and the colours are %(saturation)s, mostly %(hue)s.",
        brightness=brightness,
        saturation=saturation,
        hue=hue,
    )


def _region_sentence(
    reading: Reading, heatmap: HeatmapWords, sure: Certainty, t: Translator
) -> str:
    """Where the reading comes from. An unclear reading has no mood to locate, so the words
    say what the map measures — where the reading depends most — rather than "the sadness
    comes from the sky"."""
    if sure == "unclear" and heatmap.target_kind != "genre":
        if heatmap.regions:
            phrases = t.join([region_phrase(r, t) for r in heatmap.regions])
            return t.gettext("What tunelens reads depends most on %(regions)s.", regions=phrases)
        return t.gettext(
            "No single region stands out: the reading comes from the picture as a whole."
        )
    target_name = heatmap.target or reading.top_emotion
    kind = "genre" if heatmap.target_kind == "genre" else "emotion"
    target = t.label(kind, target_name)
    if heatmap.regions:
        phrases = t.join([region_phrase(r, t) for r in heatmap.regions])
        return t.gettext(
            "The %(target)s comes mostly from %(regions)s.", target=target, regions=phrases
        )
    return t.gettext(
        "No single region carries the %(target)s: it comes from the picture as a whole.",
        target=target,
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


def _vibe_sentence(reading: Reading, point: MoodPoint | None, t: Translator) -> str | None:
    """The vibe over the genres the songs can come from: the mapping's folded genres (a vibe
    genre the catalogue lacks counts for its nearest present genre, or drops out). Without the
    mapping's point (a caller with no catalogue), the reading's own genres."""
    if point is None:
        genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])
        if len(genres) < 2:
            return None
        return t.gettext(
            "Its vibe is mostly %(genre)s, then %(genre2)s, so the songs lean that way.",
            genre=t.label("genre", genres[0][0]),
            genre2=t.label("genre", genres[1][0]),
        )
    folded = _ranked_genres(point.genres or {})
    if not folded:
        return None
    genre = t.label("genre", folded[0][0])
    if len(folded) > 1 and folded[1][1] >= SECOND_GENRE:
        return t.gettext(
            "Of the genres in this catalogue, its vibe is closest to %(genre)s, then %(genre2)s.",
            genre=genre,
            genre2=t.label("genre", folded[1][0]),
        )
    return t.gettext(
        "Of the genres in this catalogue, its vibe is closest to %(genre)s.", genre=genre
    )


def _ranked_genres(genres: Mapping[str, float]) -> list[tuple[str, float]]:
    return sorted(((g, p) for g, p in genres.items() if p > 0), key=lambda kv: (-kv[1], kv[0]))


def colour_only(reading: Reading) -> bool:
    """Whether the reading comes from colour and light alone (no picture content)."""
    return reading.encoder.name in COLOUR_ONLY


def explanation_text(
    reading: Reading,
    *,
    lang: str = DEFAULT_LANG,
    point: MoodPoint | None = None,
    heatmap: HeatmapWords | None = None,
) -> str:
    """The whole explanation as one paragraph in ``lang`` (English when it has no catalogue).

    ``point`` is what the mapping asked the songs for (where the picture sits among photos,
    its vibe over the catalogue's genres); ``heatmap`` is ``None`` when no heatmap was made
    (no region sentence), and has no regions when one was made and none stood out.
    """
    t = translator(lang)
    sure = certainty(reading)
    sentences = [_mood_sentence(reading, sure, t), _place_sentence(reading, point, t)]
    if reading.scenes:
        scenes = t.join([t.label("scene", s.name) for s in reading.scenes])
        sentences.append(t.gettext("It looks like %(scenes)s.", scenes=scenes))
    sentences.append(_colour_sentence(reading, t))
    if heatmap is not None:
        sentences.append(_region_sentence(reading, heatmap, sure, t))
    sentences.append(_faces_sentence(reading, t) or "")
    sentences.append(_vibe_sentence(reading, point, t) or "")
    if colour_only(reading):
        sentences.append(
            t.gettext(
                "tunelens reads only colour and light here, not what the picture shows: a "
                "café, a rocket or a kite are just colours to it."
            )
        )
    return " ".join(s for s in sentences if s)
