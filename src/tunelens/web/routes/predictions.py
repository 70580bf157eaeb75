"""``GET /api/v1/predictions/{id}``: a recent answer in another language.

The page keeps a visitor's photo, songs and opinions when they switch language; the words of
the answer (reasons, explanation, names) come back from here in the new language, for the same
songs in the same order, without reading the photo again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tunelens.core.errors import NotFound
from tunelens.web.deps import ServingDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.predictions import RewordedOut
from tunelens.web.services.identity import client_from
from tunelens.web.services.language import lang_fields, resolve_lang
from tunelens.web.services.visitor_notices import notice_fields

router = APIRouter(prefix="/api/v1")


@router.get(
    "/predictions/{prediction_id}",
    response_model=RewordedOut,
    responses=error_responses(404, 422, 503),
    tags=["recommend"],
    summary="A recent answer, worded in another language",
)
async def reworded(
    serving: ServingDep,
    prediction_id: str,
    lang: Annotated[str | None, Query(description="language of the texts")] = None,
) -> RewordedOut:
    """The songs of a recent `/api/v1/recommend` answer (same order, scores and parts) with
    their reasons, the explanation and the shown names in `lang`. Recent answers are kept as
    for the commentary (`TUNELENS_PREDICTION_CACHE_SIZE`); an older or unknown id is 404
    `not_found`."""
    state = serving.state
    engine = state.require_engine()
    language, notices = resolve_lang(serving.request, None, lang)
    entry = state.predictions.get(prediction_id)
    if entry is None or entry.answer is None or not entry.visible_to(client_from(serving.request)):
        raise NotFound(
            "That answer is no longer known; analyse the photo again.",
            details={"prediction_id": prediction_id},
        )
    answer = await state.run(engine.reword, entry.answer, language)
    return RewordedOut(
        prediction_id=prediction_id,
        lang=language,
        tracks=answer.tracks,
        explanation=answer.explanation,
        labels=answer.labels,
        **notice_fields(engine.notice_codes, language, notices),
        **lang_fields(serving.request),
    )
