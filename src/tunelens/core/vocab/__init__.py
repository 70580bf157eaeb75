"""Vocabularies (emotions, vibe genres, scene tags) loaded from the JSON files beside this module.

They are data, not code, so that adding a scene or rewording a prompt needs no code change and
so that their hash can key the cache of precomputed text embeddings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

VOCAB_NAMES = ("emotions", "genres", "scenes")


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary: an emotion, a genre or a scene."""

    name: str
    phrases: tuple[str, ...]
    keywords: tuple[str, ...]
    valence: float = 0.0
    arousal: float = 0.0
    nudge: dict[str, float] = field(default_factory=dict)
    genres: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)
    catalog_genres: tuple[str, ...] = ()
    prior: dict[str, float] = field(default_factory=dict)

    def prompts(self, templates: tuple[str, ...]) -> list[str]:
        """Every template filled with every phrase: the prompt ensemble for zero-shot reading."""
        return [t.format(p) for p in self.phrases for t in templates]


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of terms with their prompt templates and a content hash."""

    kind: str
    terms: tuple[Term, ...]
    templates: tuple[str, ...]
    digest: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.terms]

    def get(self, name: str) -> Term:
        for term in self.terms:
            if term.name == name:
                return term
        raise KeyError(name)


def _term(raw: dict[str, Any]) -> Term:
    return Term(
        name=raw["name"],
        phrases=tuple(raw.get("phrases", [raw["name"]])),
        keywords=tuple(k.casefold() for k in raw.get("keywords", [])),
        valence=float(raw.get("valence", 0.0)),
        arousal=float(raw.get("arousal", 0.0)),
        nudge={k: float(v) for k, v in raw.get("nudge", {}).items()},
        genres={k: float(v) for k, v in raw.get("genres", {}).items()},
        features={k: float(v) for k, v in raw.get("features", {}).items()},
        catalog_genres=tuple(g.casefold() for g in raw.get("catalog_genres", [])),
        prior={k: float(v) for k, v in raw.get("prior", {}).items()},
    )


@cache
def load_vocabulary(kind: str) -> Vocabulary:
    """Load one vocabulary by kind (``emotions``, ``genres`` or ``scenes``)."""
    if kind not in VOCAB_NAMES:
        raise KeyError(f"unknown vocabulary {kind!r}; known: {', '.join(VOCAB_NAMES)}")
    raw_bytes = resources.files(__name__).joinpath(f"{kind}.json").read_bytes()
    raw = json.loads(raw_bytes)
    terms = tuple(_term(t) for t in raw[kind])
    extra = {k: v for k, v in raw.items() if k not in (kind, "prompt_templates", "about")}
    return Vocabulary(
        kind=kind,
        terms=terms,
        templates=tuple(raw.get("prompt_templates", ["{}"])),
        digest=hashlib.sha256(raw_bytes).hexdigest()[:16],
        extra=extra,
    )


def emotions() -> Vocabulary:
    return load_vocabulary("emotions")


def genres() -> Vocabulary:
    return load_vocabulary("genres")


def scenes() -> Vocabulary:
    return load_vocabulary("scenes")


def genre_for_catalog_label(label: str | None) -> str | None:
    """Map a catalogue's genre label (e.g. ``edm``) to a vibe genre (``electronic``)."""
    if not label:
        return None
    wanted = label.casefold()
    for term in genres().terms:
        if wanted == term.name or wanted in term.catalog_genres:
            return term.name
    return None


def mood_of(valence: float, arousal: float) -> str:
    """The playlist mood of a circumplex point.

    Pleasant and aroused: ``happy`` when pleasantness leads, ``energetic`` when arousal does;
    pleasant and calm: ``calm``; unpleasant and calm: ``sad``; unpleasant and aroused:
    ``intense``.
    """
    if valence >= 0:
        if arousal >= 0:
            return "happy" if valence >= arousal else "energetic"
        return "calm"
    return "sad" if arousal < 0 else "intense"
