"""The shown names of vocabulary entries: emotions, genres, scenes, moods, hues, regions, ….

The vocabularies themselves (``vocab/*.json``, ``data/playlists.toml``) use stable English ids
that clients branch on; their *shown* names are gettext messages, listed here so Babel can
extract them (a dynamic ``pgettext(kind, name)`` could not be found by extraction). Each kind
is a ``msgctxt``, because one English word can need two translations ("calm" the arousal
level and "calm" the playlist mood are different words in Arabic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunelens.i18n.markers import NP_

if TYPE_CHECKING:
    from tunelens.i18n import Translator

#: kind → id → English name (the msgid; the kind is its msgctxt)
LABELS: dict[str, dict[str, str]] = {
    "emotion": {
        "amusement": NP_("emotion", "amusement"),
        "awe": NP_("emotion", "awe"),
        "contentment": NP_("emotion", "contentment"),
        "excitement": NP_("emotion", "excitement"),
        "anger": NP_("emotion", "anger"),
        "disgust": NP_("emotion", "disgust"),
        "fear": NP_("emotion", "fear"),
        "sadness": NP_("emotion", "sadness"),
    },
    "genre": {
        "classical": NP_("genre", "classical"),
        "jazz": NP_("genre", "jazz"),
        "rock": NP_("genre", "rock"),
        "pop": NP_("genre", "pop"),
        "electronic": NP_("genre", "electronic"),
        "latin": NP_("genre", "latin"),
        "r&b": NP_("genre", "R&B"),
        "rap": NP_("genre", "rap"),
    },
    "mood": {
        "happy": NP_("mood", "happy"),
        "energetic": NP_("mood", "energetic"),
        "calm": NP_("mood", "calm"),
        "sad": NP_("mood", "sad"),
        "intense": NP_("mood", "intense"),
    },
    "expression": {
        "angry": NP_("expression", "angry"),
        "disgust": NP_("expression", "disgusted"),
        "fear": NP_("expression", "afraid"),
        "happy": NP_("expression", "happy"),
        "sad": NP_("expression", "sad"),
        "surprise": NP_("expression", "surprised"),
        "neutral": NP_("expression", "neutral"),
    },
    "hue": {
        "red": NP_("hue", "red"),
        "orange": NP_("hue", "orange"),
        "yellow": NP_("hue", "yellow"),
        "green": NP_("hue", "green"),
        "cyan": NP_("hue", "cyan"),
        "blue": NP_("hue", "blue"),
        "purple": NP_("hue", "purple"),
        "magenta": NP_("hue", "magenta"),
        "grey": NP_("hue", "grey"),
    },
    "content": {
        "sky": NP_("picture content", "sky"),
        "clouds": NP_("picture content", "clouds"),
        "water": NP_("picture content", "water"),
        "greenery": NP_("picture content", "greenery"),
        "warm_light": NP_("picture content", "warm light"),
        "shadows": NP_("picture content", "shadows"),
        "highlights": NP_("picture content", "bright highlights"),
    },
    "region": {
        "upper": NP_("picture region", "upper third"),
        "middle": NP_("picture region", "middle band"),
        "lower": NP_("picture region", "lower third"),
        "left": NP_("picture region", "left third"),
        "centre": NP_("picture region", "centre column"),
        "right": NP_("picture region", "right third"),
        "upper-left": NP_("picture region", "upper left"),
        "upper-centre": NP_("picture region", "top centre"),
        "upper-right": NP_("picture region", "upper right"),
        "middle-left": NP_("picture region", "left side"),
        "middle-centre": NP_("picture region", "centre"),
        "middle-right": NP_("picture region", "right side"),
        "lower-left": NP_("picture region", "lower left"),
        "lower-centre": NP_("picture region", "bottom centre"),
        "lower-right": NP_("picture region", "lower right"),
    },
    "scene": {
        "beach": NP_("scene", "a beach"),
        "ocean": NP_("scene", "the ocean"),
        "forest": NP_("scene", "a forest"),
        "mountains": NP_("scene", "mountains"),
        "lake": NP_("scene", "a lake"),
        "river": NP_("scene", "a river"),
        "countryside": NP_("scene", "countryside"),
        "desert": NP_("scene", "a desert"),
        "snow": NP_("scene", "snow"),
        "rain": NP_("scene", "rain"),
        "fog": NP_("scene", "fog"),
        "storm": NP_("scene", "a storm"),
        "sunset": NP_("scene", "a sunset"),
        "sunrise": NP_("scene", "a sunrise"),
        "night sky": NP_("scene", "the night sky"),
        "city at night": NP_("scene", "a city at night"),
        "city street": NP_("scene", "a city street"),
        "architecture": NP_("scene", "architecture"),
        "temple": NP_("scene", "a temple"),
        "party": NP_("scene", "a party"),
        "concert": NP_("scene", "a concert"),
        "wedding": NP_("scene", "a wedding"),
        "sports": NP_("scene", "sports"),
        "road trip": NP_("scene", "a road trip"),
        "cafe": NP_("scene", "a café"),
        "food": NP_("scene", "food"),
        "home interior": NP_("scene", "a room at home"),
        "workplace": NP_("scene", "a workplace"),
        "portrait": NP_("scene", "a portrait"),
        "pets": NP_("scene", "a pet"),
        "wildlife": NP_("scene", "wildlife"),
        "flowers": NP_("scene", "flowers"),
        "autumn": NP_("scene", "autumn"),
        "technology": NP_("scene", "technology"),
    },
    # the built-in playlists file's regions; an operator's own labels are shown as written
    "playlist_region": {
        "global": NP_("playlist region", "Global"),
        "khaleeji": NP_("playlist region", "Khaleeji"),
    },
}

#: the msgctxt of each kind
CONTEXTS: dict[str, str] = {
    "content": "picture content",
    "region": "picture region",
    "playlist_region": "playlist region",
}


def context_of(kind: str) -> str:
    return CONTEXTS.get(kind, kind)


def label(tr: Translator, kind: str, name: str) -> str:
    """``name``'s shown name in ``tr``'s language; ``name`` itself when it has none."""
    english = LABELS.get(kind, {}).get(name)
    if english is None:
        return name
    return tr.raw_pgettext(context_of(kind), english)


def region_label(tr: Translator, region_id: str, label_text: str) -> str:
    """A playlist region's shown name: the translation of the built-in label, else the
    operator's label as written (its own language is the operator's choice)."""
    english = LABELS["playlist_region"].get(region_id)
    if english is not None and english == label_text:
        return tr.raw_pgettext("playlist region", english)
    return label_text


def all_labels(tr: Translator, kinds: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """Every shown name of the given kinds (all kinds by default), for the page's script."""
    chosen = kinds or tuple(LABELS)
    return {kind: {name: label(tr, kind, name) for name in LABELS[kind]} for kind in chosen}
