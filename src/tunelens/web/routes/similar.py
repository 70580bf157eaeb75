"""``POST /api/v1/similar``: "more like this" for one song of an answer."""

from __future__ import annotations

import time

from fastapi import APIRouter

from tunelens.core.errors import InvalidRequest
from tunelens.pipeline import RecommendOptions
from tunelens.web.deps import ServingDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.schemas.similar import SimilarRequest, SimilarResponse
from tunelens.web.services.identity import client_from
from tunelens.web.services.language import lang_fields, resolve_lang
from tunelens.web.services.sent_back import check_sent_back

router = APIRouter(prefix="/api/v1")


@router.post(
    "/similar",
    response_model=SimilarResponse,
    responses=error_responses(401, 404, 413, 422, 503),
    tags=["recommend"],
    summary='"More like this"',
)
async def similar(serving: ServingDep, body: SimilarRequest) -> SimilarResponse:
    """Songs like `track_id` that still fit the picture (send the `reading` and/or `target`
    of the recommend answer), leaving out `exclude` (the ids already shown) and the seed;
    the listener's feedback (`client_id`) applies as on recommend. A `reading` or `target`
    no answer could contain (NaN, unknown emotions, genres or features, weights outside
    0..100) is 422 `invalid_reading` / `invalid_target`."""
    start = time.perf_counter()
    request, state = serving.request, serving.state
    engine = state.require_engine()
    if len(body.exclude) > state.web.max_exclude_ids:
        raise InvalidRequest(
            f"exclude lists at most {state.web.max_exclude_ids} track ids.",
            code="too_many_excluded",
            details={"limit": state.web.max_exclude_ids, "actual": len(body.exclude)},
        )
    check_sent_back(body.reading, body.target)  # 422 invalid_reading / invalid_target
    client = client_from(request, body.client_id)
    language, _notices = resolve_lang(request, body.lang, None)
    preferences = await serving.loop.preferences(client, body.exclude)
    result = await state.run(
        engine.similar,
        body.track_id,
        RecommendOptions(k=body.top_k, lang=language),
        preferences,
        reading=body.reading,
        target=body.target,
    )
    state.stats.record_recommendation([], (time.perf_counter() - start) * 1000)
    return SimilarResponse(
        seed=result.seed,
        reading=result.reading,
        target=result.target,
        tracks=result.tracks,
        lang=language,
        **lang_fields(request),
    )
