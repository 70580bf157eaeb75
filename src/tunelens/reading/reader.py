"""Turn embeddings (and colour statistics) into a :class:`~tunelens.core.types.Reading`.

Two readers share one output: the CLIP reader uses zero-shot heads over the emotion, genre
and scene vocabularies, with the hand-set colour formula (:func:`valence_arousal`) at a small
weight; the colour reader places the picture on Russell's circumplex with the model fitted on
people's ratings (:mod:`tunelens.reading.colour_model`), takes emotion probabilities from
that model (how likely people's rating lies nearest each emotion, given the reading's
uncertainty), and genre probabilities from the distance to each genre's circumplex position.
Both apply scene nudges.

A trained :class:`~tunelens.heads.linear.LinearHead` for a task (emotion or genre) replaces that
task's zero-shot or colour probabilities; an emotion head's answer then places the picture on
the circumplex the way CLIP's does (its share, plus the colour share).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core import vocab
from tunelens.core.types import ColourSummary, EncoderInfo, Reading, ReadingScale, ScoredLabel
from tunelens.core.vocab import Vocabulary
from tunelens.heads.linear import LinearHead
from tunelens.heads.softmax import softmax
from tunelens.reading.colour_model import ColourModel, load_colour_model
from tunelens.reading.zeroshot import ZeroShotHeads
from tunelens.vision.base import Encoder, FloatArray, l2_normalise
from tunelens.vision.colour import ColourStats, colour_stats, valence_arousal
from tunelens.vision.imaging import LoadedImage, thumbnail

#: share of the colour valence/arousal in a CLIP reading (CLIP sees content; colour sees light)
COLOUR_SHARE_WITH_CLIP = 0.2
#: share of free-text context in the picture's embedding (CLIP) or emotion mix (colour)
CONTEXT_SHARE = 0.25
#: width of the circumplex kernel that turns a song's (valence, arousal) into emotion
#: probabilities (:mod:`tunelens.recommend.similar`); a colour reading uses its fitted model's
EMOTION_KERNEL = 0.25
GENRE_KERNEL = 0.25
#: how many scene tags a reading reports, and the least probability worth reporting
TOP_SCENES = 3
MIN_SCENE_SCORE = 0.05


def _clip_unit(x: float) -> float:
    return max(-1.0, min(1.0, x))


def circumplex_probabilities(
    valence: float,
    arousal: float,
    terms: Vocabulary,
    kernel: float,
    prior: dict[str, float] | None = None,
) -> FloatArray:
    """Soft assignment of a circumplex point to each term by squared distance."""
    coords = np.array([[t.valence, t.arousal] for t in terms.terms], dtype=np.float32)
    dist2 = ((coords - np.array([valence, arousal], dtype=np.float32)) ** 2).sum(axis=1)
    logits = -dist2 / kernel
    if prior:
        logits = logits + np.log([prior.get(t.name, 1.0) for t in terms.terms])
    return softmax(logits.astype(np.float32))


def keyword_matches(text: str | None, terms: Vocabulary) -> list[str]:
    """Terms whose name or keywords occur as whole words in ``text`` (case-insensitive)."""
    if not text:
        return []
    lowered = text.casefold()
    found = []
    for term in terms.terms:
        for word in (term.name, *term.keywords):
            if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", lowered):
                found.append(term.name)
                break
    return found


def summarise_colour(stats: ColourStats) -> ColourSummary:
    return ColourSummary(
        brightness=round(stats.brightness, 4),
        saturation=round(stats.saturation, 4),
        colourfulness=round(stats.colourfulness, 4),
        warmth=round(stats.warmth, 4),
        contrast=round(stats.contrast, 4),
        edge_density=round(stats.edge_density, 4),
        dominant_hue=stats.dominant_hue,
    )


@dataclass
class _Parts:
    emotions: FloatArray
    genres: FloatArray
    scenes: list[tuple[str, float]]
    valence: float
    arousal: float


class Reader:
    """Reads pictures with whichever encoder the engine loaded."""

    def __init__(
        self,
        encoder: Encoder,
        heads: ZeroShotHeads | None,
        info: EncoderInfo,
        trained: Mapping[str, LinearHead] | None = None,
    ) -> None:
        self.encoder = encoder
        self.heads = heads
        self.info = info
        #: trained heads by task ("emotion", "genre"), used in place of zero-shot/colour
        self.trained = dict(trained or {})
        self.emotions = vocab.emotions()
        self.genres = vocab.genres()
        self.scenes = vocab.scenes()
        self._colour_model: ColourModel | None = None

    @property
    def colour_model(self) -> ColourModel:
        """The fitted colour reader: the packaged one unless set (the fit measures its own)."""
        if self._colour_model is None:
            self._colour_model = load_colour_model()
        return self._colour_model

    @colour_model.setter
    def colour_model(self, model: ColourModel) -> None:
        self._colour_model = model

    @property
    def scale(self) -> ReadingScale | None:
        """Where this reader's valence/arousal fall over photos people rated, when measured:
        the fitted colour reader's own spread; None (people's scale) for zero-shot readers."""
        return self.colour_model.spread if self.heads is None else None

    def head_info(self) -> dict[str, dict[str, Any]]:
        """Per task, what produces its probabilities: a trained head, zero-shot or colour."""
        untrained = "zero-shot" if self.heads is not None else "colour"
        return {
            task: self.trained[task].describe() if task in self.trained else {"kind": untrained}
            for task in ("emotion", "genre")
        }

    def _trained(self, task: str, embeddings: FloatArray) -> FloatArray | None:
        head = self.trained.get(task)
        if head is None:
            return None
        return head.probabilities(embeddings, self.emotions if task == "emotion" else self.genres)

    def read(
        self,
        images: Sequence[LoadedImage],
        embeddings: FloatArray,
        context: str | None = None,
        stats: Sequence[ColourStats] | None = None,
    ) -> list[Reading]:
        """One reading per image; ``embeddings`` are the encoder's rows for ``images``."""
        stats = list(stats) if stats is not None else [colour_stats(thumbnail(i)) for i in images]
        parts = self._parts(embeddings, stats, context)
        return [self._finish(p, s, context) for p, s in zip(parts, stats, strict=True)]

    def probabilities(
        self,
        images: Sequence[LoadedImage],
        embeddings: FloatArray,
        context: str | None = None,
        stats: Sequence[ColourStats] | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Unrounded (emotion, genre) probabilities, ``(N, 8)`` and ``(N, n_genres)``: what
        :meth:`read` reports before rounding (occlusion heatmaps compare small differences)."""
        stats = list(stats) if stats is not None else [colour_stats(thumbnail(i)) for i in images]
        finals = [self._final(p) for p in self._parts(embeddings, stats, context)]
        emotions = np.stack([f[0] for f in finals]).astype(np.float32)
        genres = np.stack([f[1] for f in finals]).astype(np.float32)
        return emotions, genres

    def _parts(
        self, embeddings: FloatArray, stats: Sequence[ColourStats], context: str | None
    ) -> list[_Parts]:
        if self.heads is not None:
            return self._read_clip(embeddings, stats, context)
        emotion_p = self._trained("emotion", embeddings)
        genre_p = self._trained("genre", embeddings)
        return [
            self._read_colour(
                s,
                context,
                emotion_p=None if emotion_p is None else emotion_p[i],
                genre_p=None if genre_p is None else genre_p[i],
            )
            for i, s in enumerate(stats)
        ]

    def _read_clip(
        self, embeddings: FloatArray, stats: Sequence[ColourStats], context: str | None
    ) -> list[_Parts]:
        assert self.heads is not None
        if context:
            text = self.encoder.embed_texts([context])
            embeddings = l2_normalise((1 - CONTEXT_SHARE) * embeddings + CONTEXT_SHARE * text)
        emotion_p = self._trained("emotion", embeddings)
        if emotion_p is None:
            emotion_p = self.heads.probabilities(embeddings, self.emotions)
        genre_p = self._trained("genre", embeddings)
        if genre_p is None:
            genre_p = self.heads.probabilities(embeddings, self.genres)
        scene_p = self.heads.probabilities(embeddings, self.scenes)
        coords = np.array([[t.valence, t.arousal] for t in self.emotions.terms], dtype=np.float32)
        out = []
        for i, colour in enumerate(stats):
            v_clip, a_clip = (emotion_p[i] @ coords).tolist()
            v_col, a_col = valence_arousal(colour)
            share = COLOUR_SHARE_WITH_CLIP
            order = np.argsort(-scene_p[i])[:TOP_SCENES]
            scenes = [
                (self.scenes.terms[j].name, float(scene_p[i, j]))
                for j in order
                if scene_p[i, j] >= MIN_SCENE_SCORE
            ]
            out.append(
                _Parts(
                    emotions=emotion_p[i],
                    genres=genre_p[i],
                    scenes=scenes,
                    valence=(1 - share) * v_clip + share * v_col,
                    arousal=(1 - share) * a_clip + share * a_col,
                )
            )
        return out

    def _read_colour(
        self,
        colour: ColourStats,
        context: str | None,
        *,
        emotion_p: FloatArray | None = None,
        genre_p: FloatArray | None = None,
    ) -> _Parts:
        valence, arousal = self.colour_model.predict(colour.perceptual)
        matched = keyword_matches(context, self.emotions)
        if matched:
            # context words pull the circumplex point towards the named emotions
            target = np.array(
                [[self.emotions.get(n).valence, self.emotions.get(n).arousal] for n in matched]
            ).mean(axis=0)
            valence = (1 - CONTEXT_SHARE) * valence + CONTEXT_SHARE * float(target[0])
            arousal = (1 - CONTEXT_SHARE) * arousal + CONTEXT_SHARE * float(target[1])
        scene_names = keyword_matches(context, self.scenes)[:TOP_SCENES]
        scenes = [(name, 1.0 / len(scene_names)) for name in scene_names]
        emotions = np.zeros(0, dtype=np.float32)
        if emotion_p is not None:
            # a trained emotion head reads the emotion; like CLIP's, its answer sets the
            # circumplex point, with the colour reading at CLIP's colour share
            coords = np.array([[t.valence, t.arousal] for t in self.emotions.terms])
            v_head, a_head = (emotion_p @ coords).tolist()
            share = COLOUR_SHARE_WITH_CLIP
            valence = (1 - share) * v_head + share * valence
            arousal = (1 - share) * a_head + share * arousal
            emotions = emotion_p
        if genre_p is not None:
            genres = genre_p.astype(np.float32).copy()
        else:
            genres = circumplex_probabilities(valence, arousal, self.genres, GENRE_KERNEL)
        for name in keyword_matches(context, self.genres):
            genres[self.genres.names.index(name)] += CONTEXT_SHARE
        genres = (genres / genres.sum()).astype(np.float32)
        return _Parts(
            emotions=emotions,
            genres=genres,
            scenes=scenes,
            valence=valence,
            arousal=arousal,
        )

    def _final(self, parts: _Parts) -> tuple[NDArray[Any], NDArray[Any], float, float]:
        """Scene nudges applied: (emotion probabilities, genre probabilities, valence, arousal)."""
        valence, arousal = parts.valence, parts.arousal
        genres = parts.genres.astype(np.float64).copy()
        for name, score in parts.scenes:
            term = self.scenes.get(name)
            valence += score * term.nudge.get("valence", 0.0)
            arousal += score * term.nudge.get("arousal", 0.0)
            for genre, lift in term.genres.items():
                if genre in self.genres.names:
                    genres[self.genres.names.index(genre)] += 0.5 * score * lift
        genres /= genres.sum()
        valence, arousal = _clip_unit(valence), _clip_unit(arousal)
        emotions = parts.emotions
        if emotions.size == 0:
            emotions = self.colour_model.emotion_probabilities(valence, arousal, self.emotions)
        return emotions, genres, valence, arousal

    def _finish(self, parts: _Parts, colour: ColourStats, context: str | None) -> Reading:
        emotions, genres, valence, arousal = self._final(parts)
        emotion_map = {
            n: round(float(p), 4) for n, p in zip(self.emotions.names, emotions, strict=True)
        }
        return Reading(
            emotions=emotion_map,
            top_emotion=max(emotion_map, key=lambda n: emotion_map[n]),
            valence=round(valence, 4),
            arousal=round(arousal, 4),
            genres={n: round(float(p), 4) for n, p in zip(self.genres.names, genres, strict=True)},
            scenes=[ScoredLabel(name=n, score=round(s, 4)) for n, s in parts.scenes],
            colour=summarise_colour(colour),
            encoder=self.info,
            context=context,
        )
