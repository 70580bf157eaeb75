"""Why each song was picked, in the listener's language: one to three short reasons.

A reason names what decided the pick, found from data rather than written for every song:

* the **score part** that lifted this song most above the answer's other songs (its weighted
  part minus the part's mean over the answer): the vibe genre, the song's own emotion, the
  text match, the listener's likes or all listeners' opinions;
* for the mood part, the **feature** where the song matches a target that is distinctive in
  this catalogue: a target far from the catalogue's typical song (by quantile, so a
  near-constant feature cannot look distinctive by scale alone) and weighted by the target,
  met by this song more closely than by the answer's other songs ("acoustic and slow
  (acousticness 0.81, 72 BPM), like the calm picture").

Within one answer no sentence is given to more than a third of the songs, a feature already
named first on an earlier song counts for less, and the clause tying a sound to the picture
varies, so ten songs never read as ten copies of one line. All wording lives in ``explain``;
the ranking never writes a sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from tunelens.catalogue.models import Track
from tunelens.core import vocab
from tunelens.core.types import AudioTarget, Reading, RecommendedTrack
from tunelens.explain.certainty import certainty
from tunelens.explain.reason_words import (
    MOOD,
    WORDS,
    Quality,
    evidence,
    mood_agrees,
    number,
    part_text,
    picture_words,
    qualities,
    quality,
)
from tunelens.explain.reasons_fit import FeatureFit, measure_fit
from tunelens.explain.reasons_quantiles import FeatureQuantiles
from tunelens.i18n import Translator
from tunelens.reading.faces import EXPRESSION_TO_EMOTIONS
from tunelens.recommend.mapping import MoodPoint
from tunelens.recommend.ranking import RankedSong

#: most reasons shown per song
MAX_REASONS = 3
#: least evidence for a feature to be named at all
MIN_EVIDENCE = 0.06
#: a second feature joins the first ("acoustic and slow") at this share of its evidence
PAIR_SHARE = 0.6
#: a feature already named first on an earlier song of the answer counts this much less
REPEAT_DISCOUNT = 0.6
#: how far (in score) another part must rise above its answer mean beyond the mood part's rise
#: to be named first: the mood part carries most of every score and found the candidates
MOOD_EDGE = 0.02
#: least evidence for a second feature reason to be shown as a third reason
THIRD_FEATURE = 0.3
#: what varies inside one sentence: its numbers (in any script) and its parenthesised details
#: (the numbers behind a quality, a genre's catalogue style)
_DETAILS = re.compile(r"\([^()]*\)|\d+")
#: least own value of a part (in [0, 1]) for a reason to name it
PART_FLOOR = {
    "genre": 0.6,
    "emotion": 0.6,
    "text": 0.75,
    "liked": 0.6,
    "prior": 0.7,
    "popularity": 0.75,
}


@dataclass(frozen=True)
class ReasonContext:
    """What every reason of one answer is written against: the reading, the target the songs
    were ranked for, the catalogue's feature quantiles, and the mapping's point (the vibe
    folded onto the catalogue's genres, which the genre reasons quote; None: the reading's)."""

    reading: Reading
    target: AudioTarget
    quantiles: FeatureQuantiles
    point: MoodPoint | None = None


class _Candidate(NamedTuple):
    """One possible reason: its text, how strongly it decided the pick (in score units),
    what it names, and the link clause it used."""

    text: str
    strength: float
    kind: str  # "feature" or a part name
    feature: str | None = None
    link: str | None = None


@dataclass
class _Answer:
    """One answer's shared facts and what its earlier songs were already told."""

    context: ReasonContext
    t: Translator
    #: how closely each song meets each feature's target (:mod:`.reasons_fit`)
    fit: FeatureFit
    means: dict[str, float]
    limit: int
    mood: str
    #: whether the reading is clear enough to have a mood a song may be in tune with
    sure: bool
    used: Counter[str] = field(default_factory=Counter)
    #: sentences later songs of the answer will lead with (what decided them): kept for them
    #: before earlier songs spend the third of the answer a sentence may have as an aside
    reserved: Counter[str] = field(default_factory=Counter)
    named_first: Counter[str] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)
    #: each song's part sentences (by row and part), worded once though asked for twice
    part_texts: dict[tuple[int, str], str | None] = field(default_factory=dict)
    #: :func:`sentence_key` of each sentence met, computed once
    keys: dict[str, str] = field(default_factory=dict)
    #: each (feature, value) shown as a number, formatted once
    numbers: dict[tuple[str, float], str | None] = field(default_factory=dict)

    def key(self, text: str) -> str:
        key = self.keys.get(text)
        if key is None:
            key = self.keys[text] = sentence_key(text)
        return key

    def fresh(self, text: str, *, leads: bool = True) -> bool:
        """Whether ``text`` may still be given: each sentence on at most a third of the
        answer's songs, details aside ("sunnier than most songs (valence 0.63)" and "… 0.66)",
        or "R&B (neo soul), …" and "R&B (hip pop), …", are one sentence to a listener reading
        down the list)."""
        key = self.key(text)
        return self.used[key] + (0 if leads else self.reserved[key]) < self.limit

    def give(self, text: str) -> None:
        self.used[self.key(text)] += 1


def sentence_key(text: str) -> str:
    """A reason with its numbers and parenthesised details blanked: what counts as saying the
    same thing again."""
    return _DETAILS.sub("#", text)


def _answer(context: ReasonContext, songs: Sequence[RankedSong], t: Translator) -> _Answer:
    steps = {name: words.step for name, words in WORDS.items()}
    fit = measure_fit(context.target, context.quantiles, [s.track.features for s in songs], steps)
    names = sorted({name for song in songs for name in song.parts})
    # one row per part, reduced along the row: the same sum as np.mean of that part's list
    table = np.array([[s.parts.get(p, 0.0) for s in songs] for p in names], dtype=np.float64)
    means = table.reshape(len(names), len(songs)).mean(axis=1).tolist() if songs else []
    return _Answer(
        context=context,
        t=t,
        fit=fit,
        means=dict(zip(names, means, strict=True)),
        limit=max(1, len(songs) // 3),
        mood=vocab.mood_of(context.reading.valence, context.reading.arousal),
        sure=certainty(context.reading) != "unclear",
    )


class _Evidence(NamedTuple):
    """How strongly one feature speaks for one song."""

    feature: str
    score: float
    high: bool  # the target's side of the catalogue median
    sided: bool  # the song sits on that side too, and the target is distinctive
    closest: bool  # no other song of the answer is as close to the target on it


def _evidence(answer: _Answer, row: int) -> list[_Evidence]:
    """Each feature's evidence for the song at ``row``, strongest first: its target weight ×
    how closely the song meets the target × how distinctive the target is (plus how much
    closer than the answer's other songs it comes), less for a feature already named first
    (:mod:`.reasons_fit` measures the rest for every song at once)."""
    fit = answer.fit
    rows = zip(
        fit.features,
        fit.known[row].tolist(),
        fit.score[row].tolist(),
        fit.high,
        fit.sided[row].tolist(),
        fit.closest[row].tolist(),
        strict=True,
    )
    out = [
        _Evidence(name, score * REPEAT_DISCOUNT ** answer.named_first[name], high, sided, closest)
        for name, known, score, high, sided, closest in rows
        if known
    ]
    return sorted(out, key=lambda e: -e.score)


def _link(answer: _Answer, first: _Evidence, avoid: Collection[str]) -> tuple[str, str]:
    """The clause tying the sound to the picture: of those that are true here, the kind this
    answer has used least (so ten songs do not end on one clause), never one of ``avoid``
    (the kinds this song's other reasons already use)."""
    t, reading = answer.t, answer.context.reading
    options: list[tuple[str, str]] = []
    words = picture_words(first.feature, first.high, reading, t)
    if words:
        options.append(("picture", t.gettext("like the %(words)s picture", words=words)))
    if (
        answer.sure  # an unclear reading has no mood to be in tune with
        and WORDS[first.feature].side == MOOD
        and mood_agrees(first.feature, first.high, answer.mood)
    ):
        mood = t.label("mood", answer.mood)
        options.append(("mood", t.gettext("in tune with the picture's %(mood)s mood", mood=mood)))
    if reading.scenes:
        scene = t.label("scene", reading.scenes[0].name)
        options.append(("scene", t.gettext("for the picture of %(scene)s", scene=scene)))
    if first.closest:
        options.append(("apart", t.gettext("closer to the picture than the other songs here")))
    fresh = [kv for kv in options if kv[0] not in avoid]
    return min([*fresh, ("plain", "")], key=lambda kv: answer.links[kv[0]])


def _number_text(answer: _Answer, feature: str, value: float) -> str | None:
    """:func:`evidence` of a song's value, formatted once per answer (a song's feature is
    worded for each group of features it may be named in)."""
    key = (feature, value)
    if key not in answer.numbers:
        answer.numbers[key] = evidence(feature, value, answer.t)
    return answer.numbers[key]


def _sound(answer: _Answer, chosen: Sequence[_Evidence], track: Track) -> str | None:
    """``mellow and slow (energy 0.18, 72 BPM)``: the chosen features in words."""
    t = answer.t
    said: list[tuple[Quality, str | None]] = []
    for item in chosen:
        value = track.features[item.feature]
        word = quality(item.feature, value, item.high, t)
        if word is None:
            return None
        said.append((word, _number_text(answer, item.feature, value)))
    said.sort(key=lambda pair: pair[0].compared)  # numbers in the order the words are said
    numbers = [shown for _, shown in said if shown]
    words = qualities([word for word, _ in said], t)
    if not numbers:
        return words
    shown = numbers[0]
    if len(numbers) > 1:
        shown = t.gettext("%(first)s, %(second)s", first=numbers[0], second=numbers[1])
    return t.gettext("%(quality)s (%(evidence)s)", quality=words, evidence=shown)


def _sided(
    answer: _Answer, chosen: Sequence[_Evidence], track: Track, avoid: Collection[str]
) -> _Candidate | None:
    sound = _sound(answer, chosen, track)
    if sound is None:
        return None
    kind, link = _link(answer, chosen[0], avoid)
    text = answer.t.gettext("%(sound)s, %(link)s", sound=sound, link=link) if link else sound
    strength = sum(e.score for e in chosen)
    return _Candidate(text, strength, "feature", chosen[0].feature, kind)


def _close(answer: _Answer, item: _Evidence, track: Track) -> _Candidate | None:
    """For a target near the catalogue's middle: the feature the song meets most closely."""
    name, t = item.feature, answer.t
    shown = _number_text(answer, name, track.features[name])
    if shown is None:
        return None
    text = t.gettext(
        "%(evidence)s, close to what the picture asks for (%(target)s)",
        evidence=shown,
        target=number(name, answer.context.target.features[name], t),
    )
    return _Candidate(text, item.score, "feature", name, "close")


def _feature_candidates(answer: _Answer, row: int, track: Track) -> list[_Candidate]:
    """Up to two reasons from the mood features, strongest first: the best feature (joined by
    a second one that speaks almost as strongly), then the next; for a middling target, the
    feature the song meets most closely."""
    every = _evidence(answer, row)
    sided = [e for e in every if e.sided and e.score >= MIN_EVIDENCE]
    groups = [[e] for e in sided[:3]]
    if len(sided) > 1 and sided[1].score >= PAIR_SHARE * sided[0].score:
        groups.insert(0, sided[:2])
    out: list[_Candidate] = []
    named: set[str] = set()
    for group in groups:
        features = {e.feature for e in group}
        links = {c.link or "" for c in out}
        candidate = None if features & named else _sided(answer, group, track, links)
        if candidate is not None and answer.fresh(candidate.text):
            out.append(candidate)
            named |= features
            answer.links[candidate.link or ""] += 1
        if len(out) == 2:
            return out
    if not out:
        # a near-constant feature (most songs share one value) is close for every song
        quantiles = answer.context.quantiles
        close = [e for e in every if quantiles.spread(e.feature) >= WORDS[e.feature].step]
        candidate = _close(answer, close[0], track) if close else None
        if candidate is not None and answer.fresh(candidate.text):
            out.append(candidate)
    return out


def _part_text(answer: _Answer, row: int, song: RankedSong, part: str) -> str | None:
    """:func:`part_text` of the song at ``row``, worded once per answer."""
    key = (row, part)
    if key not in answer.part_texts:
        context = answer.context
        answer.part_texts[key] = part_text(
            part, song.track, context.reading, answer.t, context.point
        )
    return answer.part_texts[key]


def _part_candidates(
    answer: _Answer, row: int, song: RankedSong, lead: str | None = None
) -> list[_Candidate]:
    """A reason for each part the song at ``row`` scores well on, strongest rise above the
    answer's mean first; a sentence other songs lead with is left to them (``lead``: the key
    of the sentence this song leads with, if any)."""
    out = []
    for part, value in song.part_values.items():
        if value < PART_FLOOR.get(part, 2.0):
            continue
        text = _part_text(answer, row, song, part)
        if text and answer.fresh(text, leads=answer.key(text) == lead):
            rise = song.parts.get(part, 0.0) - answer.means.get(part, 0.0)
            out.append(_Candidate(text, rise, part))
    return sorted(out, key=lambda c: -c.strength)


def _lead(answer: _Answer, row: int, song: RankedSong) -> str | None:
    """The key of the part sentence that decided ``song`` (its part rose above the answer's
    mean by more than the mood part did), before any sentence is spent; else None."""
    parts = [c for c in _part_candidates(answer, row, song) if c.text]
    mood_rise = song.parts.get("mood", 0.0) - answer.means.get("mood", 0.0)
    if parts and parts[0].strength > max(mood_rise + MOOD_EDGE, 0.0):
        return answer.key(parts[0].text)
    return None


def _order(
    features: list[_Candidate], parts: list[_Candidate], mood_rise: float
) -> list[_Candidate]:
    """The song's reasons in order: first what decided it (a part that rose above the
    answer's mean by more than the mood part did, else the best feature), then the other
    kind, then a third only when it too lifted the song."""
    lead_part = parts and parts[0].strength > max(mood_rise + MOOD_EDGE, 0.0)
    if lead_part or not features:
        queue = [*parts[:1], *features[:1], *parts[1:], *features[1:]]
    else:
        queue = [*features[:1], *parts, *features[1:]]
    chosen = queue[:2]
    for extra in queue[2:]:
        if extra.strength > (THIRD_FEATURE if extra.kind == "feature" else 0.0):
            chosen.append(extra)
            break
    return chosen


def _song_reasons(
    answer: _Answer, row: int, song: RankedSong, lead: str | None = None
) -> list[str]:
    if lead is not None:
        answer.reserved[lead] -= 1  # this song's own reservation is its to use
    features = _feature_candidates(answer, row, song.track)
    parts = _part_candidates(answer, row, song, lead)
    mood_rise = song.parts.get("mood", 0.0) - answer.means.get("mood", 0.0)
    chosen = _order(features, parts, mood_rise)
    if not chosen:
        t = answer.t
        percent = t.percent(song.part_values.get("mood", 0.0))
        return [t.gettext("closest audio match (mood fit %(percent)s)", percent=percent)]
    if chosen[0].kind == "feature" and chosen[0].feature:
        answer.named_first[chosen[0].feature] += 1
    for candidate in chosen:
        answer.give(candidate.text)
    return [c.text for c in chosen]


def answer_reasons(
    context: ReasonContext, songs: Sequence[RankedSong], t: Translator
) -> list[list[str]]:
    """One to three reasons for each song of one answer, in ``t``'s language, in order.

    The songs are read together: what a reason says of a song is measured against the
    answer's other songs, and sentences already given to a third of them are not repeated."""
    answer = _answer(context, songs, t)
    leads = [_lead(answer, row, song) for row, song in enumerate(songs)]
    answer.reserved.update(key for key in leads if key is not None)
    return [
        _song_reasons(answer, row, song, leads[row])[:MAX_REASONS] for row, song in enumerate(songs)
    ]


def add_face_reasons(
    reading: Reading, tracks: list[RecommendedTrack], t: Translator
) -> list[RecommendedTrack]:
    """Say so on the songs whose own emotion is one the faces' strongest expression speaks
    for ("suits the happy face in the photo"): the best-ranked third of the answer at most, so
    it does not become every song's line; a song keeps at most three reasons."""
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
    left = max(1, len(tracks) // 3)
    for item in tracks:
        if left and item.track.emotion in emotions and reason not in item.reasons:
            left -= 1
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
