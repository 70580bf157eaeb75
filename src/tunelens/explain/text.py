"""The explanation in words: deterministic templates over the reading, never the network.

What a picture's explanation says, in order: the top emotion (and the runner-up), valence and
arousal in words; the scene tags; the light and colour; the region of the picture the mood
comes from (when a heatmap was made); the faces' expressions (when faces were read); and the
vibe genres. Each sentence is a template in ``explain/i18n/<lang>.json`` — a flat key → message
map, so a new language is one data file (and converts 1:1 to a gettext ``.po`` catalogue:
key = ``msgctxt``, English = ``msgid``, translation = ``msgstr``). Keys a language leaves out
fall back to English, so a partial translation never breaks the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from tunelens.explain.heatmap import HotRegion
from tunelens.schemas import Reading

DEFAULT_LANG = "en"
I18N_PACKAGE = "tunelens.explain"


class Templates:
    """One language's messages with English underneath."""

    def __init__(self, lang: str, messages: Mapping[str, str]) -> None:
        self.lang = lang
        self.messages = dict(messages)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def has(self, key: str) -> bool:
        return key in self.messages

    def label(self, prefix: str, name: str) -> str:
        """``prefix.name``'s message, or ``name`` itself when no message exists."""
        key = f"{prefix}.{name}"
        return self.messages.get(key, name)

    def join(self, items: Sequence[str]) -> str:
        """ "a", "a and b", "a, b and c" in this language."""
        if not items:
            return ""
        if len(items) == 1:
            return items[0]
        if len(items) == 2:
            return self("list.pair", a=items[0], b=items[1])
        rest = self("list.separator").join(items[:-1])
        return self("list.last", rest=rest, last=items[-1])

    def percent(self, p: float) -> str:
        return self("percent", value=round(p * 100))


def _read_file(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold one JSON object of key → message")
    return {str(k): str(v) for k, v in data.items()}


def _package_dir() -> Path:
    return Path(str(resources.files(I18N_PACKAGE).joinpath("i18n")))


def available_languages(directory: Path | None = None) -> list[str]:
    """Languages with a template file (``en`` always first)."""
    folder = directory or _package_dir()
    langs = sorted(p.stem for p in folder.glob("*.json"))
    return sorted(langs, key=lambda lang: (lang != DEFAULT_LANG, lang))


@cache
def _templates_cached(lang: str, directory: str) -> Templates:
    folder = Path(directory)
    messages = _read_file(folder / f"{DEFAULT_LANG}.json")
    path = folder / f"{lang}.json"
    if lang == DEFAULT_LANG or not path.is_file():
        return Templates(DEFAULT_LANG, messages)
    messages.update(_read_file(path))
    return Templates(lang, messages)


def templates(lang: str = DEFAULT_LANG, directory: Path | None = None) -> Templates:
    """The templates for ``lang`` (its primary subtag: ``ar-SA`` → ``ar``); English when that
    language has no file."""
    primary = (lang or DEFAULT_LANG).split("-")[0].lower()
    return _templates_cached(primary, str(directory or _package_dir()))


# --- words for numbers ----------------------------------------------------------------------


def valence_key(valence: float) -> str:
    return "valence.high" if valence > 0.3 else "valence.low" if valence < -0.3 else "valence.mid"


def arousal_key(arousal: float) -> str:
    return "arousal.high" if arousal > 0.3 else "arousal.low" if arousal < -0.3 else "arousal.mid"


def brightness_key(brightness: float) -> str:
    if brightness < 0.25:
        return "brightness.dark"
    if brightness < 0.4:
        return "brightness.dim"
    if brightness < 0.6:
        return "brightness.soft"
    return "brightness.bright"


def saturation_key(saturation: float) -> str:
    if saturation < 0.08:
        return "saturation.muted"
    if saturation < 0.18:
        return "saturation.gentle"
    if saturation < 0.3:
        return "saturation.rich"
    return "saturation.vivid"


def _signed(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


# --- regions --------------------------------------------------------------------------------


def content_label(region: HotRegion, t: Templates) -> str | None:
    if not region.content:
        return None
    if region.content_kind == "scene":
        return t.label("scene", region.content)
    if region.content_kind == "hue":
        return t("content.hue", hue=t.label("hue", region.content))
    return t.label("content", region.content)


def region_name(region: HotRegion, t: Templates) -> str:
    return t.label("region", region.key)


def region_label(region: HotRegion, lang: str = DEFAULT_LANG) -> str:
    """The words summary of one hot region, e.g. ``upper third: sky``."""
    t = templates(lang)
    content = content_label(region, t)
    name = region_name(region, t)
    return t("label.region", region=name, content=content) if content else name


def region_phrase(region: HotRegion, t: Templates) -> str:
    content = content_label(region, t)
    name = region_name(region, t)
    if content:
        return t("phrase.region", region=name, content=content)
    return t("phrase.region_plain", region=name)


# --- the explanation --------------------------------------------------------------------------


def _mood_sentence(reading: Reading, t: Templates) -> str:
    ranked = sorted(reading.emotions.items(), key=lambda kv: -kv[1])
    top, p_top = ranked[0]
    second = ""
    if len(ranked) > 1 and ranked[1][1] >= 0.15:
        second = t("sentence.mood_second", emotion=t.label("emotion", ranked[1][0]))
    return t(
        "sentence.mood",
        emotion=t.label("emotion", top),
        percent=t.percent(p_top),
        second=second,
        valence_words=t(valence_key(reading.valence)),
        arousal_words=t(arousal_key(reading.arousal)),
        valence=_signed(reading.valence),
        arousal=_signed(reading.arousal),
    )


def _colour_sentence(reading: Reading, t: Templates) -> str:
    colour = reading.colour
    brightness = t(brightness_key(colour.brightness))
    if colour.dominant_hue == "grey":
        return t("sentence.colour_grey", brightness=brightness)
    return t(
        "sentence.colour",
        brightness=brightness,
        saturation=t(saturation_key(colour.saturation)),
        hue=t.label("hue", colour.dominant_hue),
    )


def _faces_sentence(reading: Reading, t: Templates) -> str | None:
    faces = reading.faces or []
    if not faces:
        return None
    from tunelens.explain.faces import EXPRESSION_TO_EMOTIONS

    strongest = max(
        faces,
        key=lambda f: (f.top_expression != "neutral", f.expressions.get(f.top_expression, 0.0)),
    )
    if strongest.top_expression == "neutral":
        if len(faces) == 1:
            return t("sentence.faces_neutral_one")
        return t("sentence.faces_neutral_many", count=len(faces))
    emotions = [t.label("emotion", e) for e in EXPRESSION_TO_EMOTIONS[strongest.top_expression]]
    values = {
        "expression": t.label("expression", strongest.top_expression),
        "percent": t.percent(strongest.expressions.get(strongest.top_expression, 0.0)),
        "emotions": t.join(emotions),
    }
    if len(faces) == 1:
        return t("sentence.faces_one", **values)
    return t("sentence.faces_many", count=len(faces), **values)


def explanation_text(
    reading: Reading,
    *,
    lang: str = DEFAULT_LANG,
    regions: Sequence[HotRegion] | None = None,
    heatmap_target: str | None = None,
    heatmap_target_kind: str = "emotion",
) -> str:
    """The whole explanation as one paragraph in ``lang`` (English when it has no templates).

    ``regions`` is ``None`` when no heatmap was made (no region sentence), an empty list when
    one was made and no region stood out.
    """
    t = templates(lang)
    sentences = [_mood_sentence(reading, t)]
    if reading.scenes:
        sentences.append(
            t("sentence.scenes", scenes=t.join([t.label("scene", s.name) for s in reading.scenes]))
        )
    sentences.append(_colour_sentence(reading, t))
    if regions is not None:
        target_name = heatmap_target or reading.top_emotion
        prefix = "genre" if heatmap_target_kind == "genre" else "emotion"
        target = t.label(prefix, target_name)
        if regions:
            phrases = [region_phrase(r, t) for r in regions]
            sentences.append(t("sentence.region", target=target, regions=t.join(phrases)))
        else:
            sentences.append(t("sentence.region_flat", target=target))
    faces = _faces_sentence(reading, t)
    if faces:
        sentences.append(faces)
    genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])
    if len(genres) >= 2:
        sentences.append(
            t(
                "sentence.vibe",
                genre=t.label("genre", genres[0][0]),
                genre2=t.label("genre", genres[1][0]),
            )
        )
    if reading.encoder.name == "colour":
        sentences.append(t("sentence.offline"))
    return " ".join(s for s in sentences if s)
