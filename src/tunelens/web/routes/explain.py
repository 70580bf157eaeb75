"""``GET /api/v1/predictions/{id}/commentary``: the LLM's words on a recent recommendation."""

from __future__ import annotations

from fastapi import APIRouter, Request

from tunelens.core.errors import NotFound
from tunelens.explain.llm import LlmConfig, commentary
from tunelens.web.deps import StateDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.explain import CommentaryOut
from tunelens.web.services.identity import client_from

router = APIRouter(prefix="/api/v1")


@router.get(
    "/predictions/{prediction_id}/commentary",
    response_model=CommentaryOut,
    responses=error_responses(404),
    tags=["explain"],
    summary="LLM commentary on a recent recommendation",
)
async def get_commentary(state: StateDep, request: Request, prediction_id: str) -> CommentaryOut:
    """A few sentences from the configured OpenAI-compatible model about why the photo suits
    its mood, given the photo and its heatmap (as the recommend answer had it). Recent answers
    are kept in memory (`TUNELENS_PREDICTION_CACHE_SIZE`, default 128; with several workers also
    in `TUNELENS_PREDICTION_CACHE_DIR`); an older or unknown id is 404 `not_found`. Without an LLM, or when it fails (timeout, error, unreadable reply,
    after one retry), the answer is the template explanation with a `notice` saying why."""
    entry = state.predictions.get(prediction_id)
    # another listener's answer is as unknown as one never made
    if entry is None or not entry.visible_to(client_from(request)):
        raise NotFound(
            "That prediction is not in memory any more (or never was); analyse the photo again.",
            details={"prediction_id": prediction_id},
        )
    async with entry.lock:  # one model call per prediction, however many ask at once
        result = entry.commentary
        if result is None:
            result = await commentary(
                LlmConfig.from_settings(state.settings),
                entry.reading,
                fallback_text=entry.text,
                photo_url=entry.photo_url,
                heatmap_url=entry.heatmap_url,
                regions=entry.regions,
                lang=entry.lang,
            )
            if result.source == "llm":  # failures are not kept: asking again may succeed
                entry.commentary = result
    return CommentaryOut(
        prediction_id=prediction_id,
        source=result.source,
        text=result.text,
        notice=result.notice,
        model=result.model,
        lang=entry.lang,
    )
