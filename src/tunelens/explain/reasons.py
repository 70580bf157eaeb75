"""Why each song was picked, in the listener's language: one to three short reasons.

The reasons are written from the song's score parts (:mod:`tunelens.recommend.scoring`), so
they name what actually weighed: the mood fit (energy, valence, tempo, texture), the vibe
genre, the text match, the song's own emotion, the listener's likes and the faces in the
photo. All wording lives in ``explain``; the ranking never writes a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.types import AudioTarget, Reading, RecommendedTrack
from tunelens.explain.text import arousal_words
from tunelens.i18n import Translator
from tunelens.reading.faces import EXPRESSION_TO_EMOTIONS

#: most reasons shown per song
MAX_REASONS = 3


def valence_words(valence: float, t: Translator) -> str:
    if valence > 0.3:
        return t.pgettext("scene valence", "bright, happy")
    if valence < -0.3:
        return t.pgettext("scene valence", "dark, sombre")
    return t.pgettext("scene valence", "bittersweet")


def tempo_words(tempo: float, t: Translator) -> str:
    if tempo < 95:
        return t.pgettext("tempo", "slow")
    if tempo < 125:
        return t.pgettext("tempo", "mid-tempo")
    return t.pgettext("tempo", "up-tempo")


def _sound_reason(reading: Reading, track: Track, t: Translator) -> str | None:
    feats = track.features
    if "energy" not in feats or "acousticness" not in feats:
        return None
    texture = (
        t.pgettext("sound", "acoustic")
        if feats["acousticness"] >= 0.5
        else t.pgettext("sound", "electric")
    )
    tempo = feats.get("tempo")
    sound = (
        t.gettext("%(texture)s, %(tempo)s", texture=texture, tempo=tempo_words(tempo, t))
        if tempo
        else texture
    )
    return t.gettext(
        "%(arousal)s, %(valence)s scene → %(sound)s (energy %(energy)s)",
        arousal=arousal_words(reading.arousal, t),
        valence=valence_words(reading.valence, t),
        sound=sound,
        energy=t.decimal(feats["energy"]),
    )


def _vibe_reason(track: Track, genre_part: float, t: Translator) -> str | None:
    vibe = vocab.genre_for_catalog_label(track.genre)
    if not vibe or genre_part < 0.5:
        return None
    label = track.subgenre or track.genre
    if label and label != vibe:
        return t.gettext("vibe: %(genre)s (%(style)s)", genre=t.label("genre", vibe), style=label)
    return t.gettext("vibe: %(genre)s", genre=t.label("genre", vibe))


def _text_reason(reading: Reading, t: Translator) -> str:
    scene = reading.scenes[0].name if reading.scenes else None
    if scene:
        return t.gettext("matches “%(scene)s”", scene=t.label("scene", scene))
    return t.gettext("its title and genre echo the picture")


def song_reasons(
    reading: Reading,
    target: AudioTarget,
    track: Track,
    part_values: Mapping[str, float],
    t: Translator,
) -> list[str]:
    """Up to three reasons for one song, from its unweighted score parts."""
    reasons: list[str] = []
    if part_values.get("liked", 0.0) >= 0.6:
        reasons.append(t.gettext("close to songs you liked"))
    sound = _sound_reason(reading, track, t)
    if sound:
        reasons.append(sound)
    valence = track.features.get("valence")
    if valence is not None and abs(valence - target.features["valence"]) < 0.15:
        reasons.append(
            t.gettext(
                "valence %(value)s suits a %(words)s picture",
                value=t.decimal(valence),
                words=valence_words(reading.valence, t),
            )
        )
    vibe = _vibe_reason(track, part_values.get("genre", 0.0), t)
    if vibe:
        reasons.append(vibe)
    if part_values.get("text", 0.0) >= 0.75:
        reasons.append(_text_reason(reading, t))
    emotion = track.dylumo_emotion()
    if emotion and emotion == reading.top_emotion:
        reasons.append(
            t.gettext(
                "feels like %(emotion)s, like the picture", emotion=t.label("emotion", emotion)
            )
        )
    if not reasons:
        reasons.append(
            t.gettext(
                "closest audio match (mood fit %(percent)s)",
                percent=t.percent(part_values.get("mood", 0.0)),
            )
        )
    return reasons[:MAX_REASONS]


def add_face_reasons(
    reading: Reading, tracks: list[RecommendedTrack], t: Translator
) -> list[RecommendedTrack]:
    """Say so on the songs whose own emotion is one the faces' strongest expression speaks
    for ("suits the happy face in the photo"); a song keeps at most three reasons."""
    faces = [f for f in reading.faces or [] if f.weight > 0 and f.top_expression != "neutral"]
    if not faces:
        return tracks
    strongest = max(faces, key=lambda f: f.weight)
    emotions = EXPRESSION_TO_EMOTIONS.get(strongest.top_expression, ())
    reason = t.ngettext(
        "suits the %(expression)s face in the photo",
        "suits the %(expression)s faces in the photo",
        len(faces),
        expression=t.label("expression", strongest.top_expression),
    )
    out = []
    for item in tracks:
        if item.track.emotion in emotions and reason not in item.reasons:
            reasons = [item.reasons[0], reason, *item.reasons[1:]] if item.reasons else [reason]
            out.append(item.model_copy(update={"reasons": reasons[:MAX_REASONS]}))
        else:
            out.append(item)
    return out


def seed_reason(seed: Track, other: Track, t: Translator) -> str:
    """The first reason of a "more like this" song, in the current language (the titles and
    the catalogue's genre names are data, shown as written, isolated inside right-to-left
    text)."""
    title = t.isolate(seed.title) if t.rtl else seed.title
    if other.subgenre and other.subgenre == seed.subgenre:
        return t.gettext("like “%(title)s”: also %(genre)s", title=title, genre=other.subgenre)
    if other.genre and other.genre == seed.genre:
        return t.gettext("like “%(title)s”: also %(genre)s", title=title, genre=other.genre)
    return t.gettext("close in sound to “%(title)s”", title=title)
