"""The words a song's reasons are made of: each mood feature's name, what a high or low value
sounds like, how its number is shown, and which side of the picture it echoes.

Why a table rather than one sentence per feature: a reason names the feature that decided the
pick, and any of ten features can; the table keeps each feature's words in one place so a
translator sees them together. Every phrase describes *the song* (its subject is the song,
so Spanish, French and Arabic translate the adjectives in the song's gender), and every
phrase is true of the song's value, not only of the target's: "acoustic" only above
acousticness 0.6, "more acoustic than most songs" when it is merely above the catalogue's
typical song.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.types import Reading
from tunelens.explain.certainty import certainty
from tunelens.explain.text import arousal_words, valence_words
from tunelens.i18n import Translator
from tunelens.i18n.markers import NP_
from tunelens.recommend.mapping import MoodPoint

#: which side of the picture a feature echoes: its arousal, its valence or its overall mood
AROUSAL, VALENCE, MOOD = "arousal", "valence", "mood"
#: reading arousal / valence beyond which the picture's words take a side ("calm", "lively")
SIDE = 0.3
#: least share of the picture's vibe the catalogue has genres for, for its top genre to be
#: called "the picture's main vibe" (below it, the top genre is only the nearest one here)
MAIN_VIBE_MASS = 0.5


@dataclass(frozen=True)
class Extreme:
    """An absolute word for the song and the value it must pass to earn it."""

    word: str
    bound: float


@dataclass(frozen=True)
class FeatureWords:
    """One mood feature in words. ``low``/``high`` are absolute words (with the value a song
    must be below/above to earn them); ``lower``/``higher`` compare the song with the
    catalogue's typical song ("calmer", shown as "calmer than most songs"); None where the
    words would say nothing (a song "not live")."""

    name: str
    side: str
    low: Extreme | None
    high: Extreme | None
    lower: str | None
    higher: str | None
    #: the least difference from the catalogue's median worth a word (a song at
    #: instrumentalness 0.003 is "above most songs" by quantile, but not audibly)
    step: float


SONG = "song is"
COMPARED = "song compared with most songs"

WORDS: dict[str, FeatureWords] = {
    "energy": FeatureWords(
        NP_("audio feature", "energy"),
        AROUSAL,
        Extreme(NP_("song is", "mellow"), 0.4),
        Extreme(NP_("song is", "high-energy"), 0.8),
        NP_("song compared with most songs", "calmer"),
        NP_("song compared with most songs", "more energetic"),
        0.05,
    ),
    "valence": FeatureWords(
        NP_("audio feature", "valence"),
        VALENCE,
        Extreme(NP_("song is", "melancholic"), 0.3),
        Extreme(NP_("song is", "cheerful"), 0.7),
        NP_("song compared with most songs", "gloomier"),
        NP_("song compared with most songs", "sunnier"),
        0.05,
    ),
    "danceability": FeatureWords(
        NP_("audio feature", "danceability"),
        AROUSAL,
        Extreme(NP_("song is", "not made for dancing"), 0.45),
        Extreme(NP_("song is", "made for dancing"), 0.75),
        NP_("song compared with most songs", "less danceable"),
        NP_("song compared with most songs", "more danceable"),
        0.05,
    ),
    "tempo": FeatureWords(
        NP_("audio feature", "tempo"),
        AROUSAL,
        Extreme(NP_("song is", "slow"), 95.0),
        Extreme(NP_("song is", "fast"), 135.0),
        NP_("song compared with most songs", "slower"),
        NP_("song compared with most songs", "faster"),
        5.0,
    ),
    "loudness": FeatureWords(
        NP_("audio feature", "loudness"),
        AROUSAL,
        Extreme(NP_("song is", "quiet"), -11.0),
        Extreme(NP_("song is", "loud"), -4.5),
        NP_("song compared with most songs", "quieter"),
        NP_("song compared with most songs", "louder"),
        1.0,
    ),
    "acousticness": FeatureWords(
        NP_("audio feature", "acousticness"),
        MOOD,
        Extreme(NP_("song is", "electric"), 0.02),
        Extreme(NP_("song is", "acoustic"), 0.6),
        NP_("song compared with most songs", "more electric"),
        NP_("song compared with most songs", "more acoustic"),
        0.05,
    ),
    "instrumentalness": FeatureWords(
        NP_("audio feature", "instrumentalness"),
        MOOD,
        None,
        Extreme(NP_("song is", "instrumental"), 0.5),
        None,
        NP_("song compared with most songs", "more instrumental"),
        0.05,
    ),
    "mode": FeatureWords(
        NP_("audio feature", "mode"),
        VALENCE,
        Extreme(NP_("song is", "in a minor key"), 0.5),
        Extreme(NP_("song is", "in a major key"), 0.5),
        None,
        None,
        0.25,
    ),
    "speechiness": FeatureWords(
        NP_("audio feature", "speechiness"),
        MOOD,
        Extreme(NP_("song is", "sung rather than spoken"), 0.035),
        Extreme(NP_("song is", "speech-like"), 0.3),
        NP_("song compared with most songs", "less wordy"),
        NP_("song compared with most songs", "wordier"),
        0.03,
    ),
    "liveness": FeatureWords(
        NP_("audio feature", "liveness"),
        AROUSAL,
        None,
        Extreme(NP_("song is", "recorded live"), 0.6),
        None,
        NP_("song compared with most songs", "more live-sounding"),
        0.05,
    ),
}

#: the playlist moods a feature's high (True) or low (False) side may be said to echo
MOODS_OF_SIDE: dict[tuple[str, bool], frozenset[str]] = {
    ("acousticness", True): frozenset({"calm", "sad"}),
    ("acousticness", False): frozenset({"happy", "energetic", "intense"}),
    ("instrumentalness", True): frozenset({"calm", "sad", "intense"}),
    ("speechiness", True): frozenset({"happy", "energetic", "intense"}),
    ("speechiness", False): frozenset({"calm", "sad"}),
}


@dataclass(frozen=True)
class Quality:
    """A word for the song's side of a feature; ``compared`` words ("sunnier") need "than
    most songs" after them, and several are joined under one ("sunnier and slower than most
    songs")."""

    word: str
    compared: bool


def quality(feature: str, value: float, high: bool, t: Translator) -> Quality | None:
    """What the song's ``value`` sounds like on the ``high`` or low side: the absolute word
    when the value earns it, else the comparison with most songs (None when neither says
    anything true)."""
    words = WORDS[feature]
    extreme = words.high if high else words.low
    if extreme is not None and (value > extreme.bound if high else value <= extreme.bound):
        return Quality(t.pgettext(SONG, extreme.word), compared=False)
    compared = words.higher if high else words.lower
    return Quality(t.pgettext(COMPARED, compared), compared=True) if compared else None


def qualities(items: list[Quality], t: Translator) -> str:
    """``mellow and sunnier than most songs``: absolute words first, then the comparisons
    under one "than most songs"."""
    plain = [q.word for q in items if not q.compared]
    compared = [q.word for q in items if q.compared]
    if compared:
        plain.append(t.gettext("%(qualities)s than most songs", qualities=t.join(compared)))
    return t.join(plain)


def number(feature: str, value: float, t: Translator) -> str:
    """The value as shown beside its feature: BPM for tempo, dB for loudness, else 0.18."""
    if feature == "tempo":
        return t.gettext("%(bpm)s BPM", bpm=t.integer(round(value)))
    if feature == "loudness":
        return t.gettext("%(db)s dB", db=t.signed(value, 1))
    return t.decimal(value)


def evidence(feature: str, value: float, t: Translator) -> str | None:
    """The number behind a quality, e.g. ``energy 0.18`` or ``72 BPM`` (None for the key,
    which has no number worth showing)."""
    if feature == "mode":
        return None
    if feature in ("tempo", "loudness"):
        return number(feature, value, t)
    return t.gettext(
        "%(feature)s %(value)s",
        feature=t.pgettext("audio feature", WORDS[feature].name),
        value=t.decimal(value),
    )


def picture_words(feature: str, high: bool, reading: Reading, t: Translator) -> str | None:
    """The picture as the feature's side of it ("calm", "dark and sombre"), only when the
    picture itself clearly takes the song's side: a fast song is never "like the calm
    picture", and no song is "like the bittersweet picture" (a middling picture echoes
    neither side)."""
    side = WORDS[feature].side
    if side == MOOD:
        return None
    level = reading.arousal if side == AROUSAL else reading.valence
    if not (level > SIDE if high else level < -SIDE):
        return None
    return arousal_words(level, t) if side == AROUSAL else valence_words(level, t)


def mood_agrees(feature: str, high: bool, mood: str) -> bool:
    """Whether the song's side of ``feature`` may be said to echo the picture's ``mood``."""
    return mood in MOODS_OF_SIDE.get((feature, high), frozenset())


def genre_text(
    track: Track, reading: Reading, t: Translator, point: MoodPoint | None = None
) -> str | None:
    """The song's vibe genre (and its catalogue style) and its share of the picture's vibe.

    The vibe is the one the ranking scored genres by: the reading's genres folded onto the
    genres the catalogue has (``point``, the mapping's); without it, the reading's own genres.
    The folded share is the one that lifted the song — "3 % of the picture's vibe" for a song
    the genre part ranked high would be the unfolded share, and wrong. When the catalogue has
    little of the picture's vibe (a classical picture and a catalogue without classical), its
    top genre is only the nearest one here, and the words say so."""
    genres = reading.genres if point is None else dict(point.genres or {})
    vibe = vocab.genre_for_catalog_label(track.genre)
    if not vibe or not genres or genres.get(vibe, 0.0) <= 0:
        return None
    name = t.label("genre", vibe)
    style = track.subgenre or track.genre
    if style and style.lower() != vibe:
        name = t.gettext("%(genre)s (%(style)s)", genre=name, style=t.isolate(style))
    if vibe == max(genres, key=lambda g: genres[g]):
        if point is not None and point.genre_mass < MAIN_VIBE_MASS:
            return t.gettext("%(genre)s, the genre here closest to the picture's vibe", genre=name)
        return t.gettext("%(genre)s, the picture's main vibe", genre=name)
    share = t.percent(genres.get(vibe, 0.0))
    return t.gettext("%(genre)s, %(percent)s of the picture's vibe", genre=name, percent=share)


def emotion_text(track: Track, reading: Reading, t: Translator) -> str | None:
    """The song's own emotion (DyLuMo's rule) and how much of it the picture shows — "the
    picture's main emotion" only when the reading is sure of it (see
    :mod:`tunelens.explain.certainty`)."""
    emotions = reading.emotions
    emotion = track.dylumo_emotion()
    if not emotion or emotion not in emotions:
        return None
    name = t.label("emotion", emotion)
    percent = t.percent(emotions[emotion])
    sure = certainty(reading)
    if emotion == reading.top_emotion and sure == "clear":
        return t.gettext("sounds like %(emotion)s, the picture's main emotion", emotion=name)
    if emotion == reading.top_emotion and sure == "leaning":
        return t.gettext(
            "sounds like %(emotion)s, which the picture leans towards (%(percent)s)",
            emotion=name,
            percent=percent,
        )
    return t.gettext(
        "sounds like %(emotion)s, also in the picture (%(percent)s)", emotion=name, percent=percent
    )


def part_text(
    part: str,
    track: Track,
    reading: Reading,
    t: Translator,
    point: MoodPoint | None = None,
) -> str | None:
    """The reason naming one score part (None for a part no reason speaks of, such as the
    ranking's novelty, which spreads songs across answers rather than fitting this one);
    ``point`` as in :func:`genre_text`."""
    if part == "genre":
        return genre_text(track, reading, t, point)
    if part == "emotion":
        return emotion_text(track, reading, t)
    if part == "text":
        if reading.scenes:
            return t.gettext("matches “%(scene)s”", scene=t.label("scene", reading.scenes[0].name))
        return t.gettext("its title and genre echo the picture")
    if part == "liked":
        return t.gettext("close to songs you liked")
    if part == "prior":
        return t.gettext("other listeners liked it")
    if part == "popularity" and track.popularity is not None:
        return t.gettext(
            "one of the best-known songs here (popularity %(value)s)",
            value=t.integer(round(track.popularity)),
        )
    return None
