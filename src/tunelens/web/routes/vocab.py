"""``GET /api/v1/vocab/{kind}``: the emotion, vibe-genre and scene vocabularies."""

from __future__ import annotations

from fastapi import APIRouter

from tunelens.core import vocab
from tunelens.core.errors import NotFound
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.vocab import VocabResponse, VocabTermOut

router = APIRouter(prefix="/api/v1")


@router.get(
    "/vocab/{kind}",
    response_model=VocabResponse,
    responses=error_responses(404),
    tags=["vocabulary"],
    summary="Emotion, genre or scene vocabulary",
)
async def get_vocab(kind: str) -> VocabResponse:
    """`kind` is `emotions` (8 Mikels emotions with circumplex positions), `genres` (vibe
    genres) or `scenes` (scene tags)."""
    if kind not in vocab.VOCAB_NAMES:
        raise NotFound(
            f"There is no vocabulary called {kind!r}; try emotions, genres or scenes.",
            details={"kind": kind, "known": list(vocab.VOCAB_NAMES)},
        )
    vocabulary = vocab.load_vocabulary(kind)
    with_position = kind != "scenes"
    return VocabResponse(
        kind=kind,
        names=vocabulary.names,
        terms=[
            VocabTermOut(
                name=term.name,
                valence=term.valence if with_position else None,
                arousal=term.arousal if with_position else None,
                phrases=list(term.phrases),
                keywords=list(term.keywords),
            )
            for term in vocabulary.terms
        ],
    )
