"""``/api/v1`` recommend routes: one picture, or a batch answered alike."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile

from tunelens.core.errors import TunelensError
from tunelens.core.types import Recommendation
from tunelens.pipeline import Pipeline, RecommendOptions
from tunelens.vision.imaging import DETAIL_WORK_SIDE, FAST_WORK_SIDE, LoadedImage, load_image
from tunelens.web.deps import ServingDep
from tunelens.web.errors import MissingImage, TooManyImages
from tunelens.web.schemas.errors import ErrorBody, error_responses
from tunelens.web.schemas.forms import BatchForm, PictureForm
from tunelens.web.schemas.recommend import BatchItem, BatchResponse, RecommendationOut
from tunelens.web.services.answers import Origin, answer_upload, remember
from tunelens.web.services.form_fields import parse_context, parse_exclude, strict_top_k
from tunelens.web.services.identity import client_from
from tunelens.web.services.language import lang_fields, resolve_lang
from tunelens.web.services.state import Serving
from tunelens.web.services.upload_parts import read_part
from tunelens.web.services.visitor_notices import notice_fields

router = APIRouter(prefix="/api/v1")


@router.post(
    "/recommend",
    response_model=RecommendationOut,
    responses=error_responses(400, 401, 413, 415, 422, 503),
    tags=["recommend"],
    summary="Read a picture and recommend songs",
)
async def recommend_v1(
    serving: ServingDep, form: Annotated[PictureForm, Depends()]
) -> RecommendationOut:
    """The picture's reading, its target audio profile and the top songs with their score,
    score parts and reasons, plus `explanation` (text; with `heatmap=true` also the overlay
    and the regions that mattered). An out-of-range `top_k` is an error (`invalid_top_k`).
    The listener's feedback (`client_id`) shapes the songs; `consent=true` keeps the picture."""
    start = time.perf_counter()
    engine = serving.state.require_engine()
    k = engine.check_k(strict_top_k(form.top_k))
    answer = await answer_upload(serving, form, k=k, source="api", start=start)
    fields = dict(answer.rec)
    fields.update(notice_fields(engine.notice_codes, answer.language, answer.notices))
    return RecommendationOut(
        **fields,
        prediction_id=answer.prediction_id,
        lang=answer.language,
        upload=answer.upload,
        **lang_fields(serving.request),
    )


@dataclass(frozen=True)
class _Decoded:
    """One batch part that decoded: its position, the picture and the decode time."""

    index: int
    image: LoadedImage
    decode_ms: float


@router.post(
    "/recommend/batch",
    response_model=BatchResponse,
    responses=error_responses(400, 401, 413, 415, 422, 503),
    tags=["recommend"],
    summary="Recommend for several pictures at once",
)
async def recommend_batch(
    serving: ServingDep, form: Annotated[BatchForm, Depends()]
) -> BatchResponse:
    """One result per part, in order. A picture that cannot be read gets its own `error`
    (same codes as `/api/v1/recommend`) without failing the others. More parts than
    `TUNELENS_MAX_BATCH_IMAGES` (default 8) → 413 `too_many_images`."""
    start = time.perf_counter()
    request, state, loop = serving.request, serving.state, serving.loop
    engine = state.require_engine()
    parts = _check_parts(form.images or [], state.web.max_batch_images)
    k = engine.check_k(strict_top_k(form.top_k))
    language, notices = resolve_lang(request, form.lang, form.lang_query)
    text = parse_context(form.context, state.web.max_context_chars)
    excluded = parse_exclude(form.exclude, state.web.max_exclude_ids)
    client = client_from(request, form.client_id)
    preferences = await loop.preferences(client, excluded)

    results: list[BatchItem | None] = [None] * len(parts)
    decoded = await _decode(serving, engine, parts, results)
    if decoded:
        options = RecommendOptions(
            k=k,
            context=text,
            lang=language,
            labels=[parts[d.index].filename or None for d in decoded],
            decode_ms=[d.decode_ms for d in decoded],
        )
        recs = await state.run(engine.recommend, [d.image for d in decoded], options, preferences)
        origin = Origin(language, client, "batch")
        per_image_ms = (time.perf_counter() - start) * 1000 / len(recs)
        for d, rec in zip(decoded, recs, strict=True):
            fields = notice_fields(engine.notice_codes, language, notices)
            out = await _recorded(serving, rec, origin, per_image_ms, fields)
            results[d.index] = BatchItem(
                index=d.index, filename=parts[d.index].filename, ok=True, recommendation=out
            )
        state.stats.record_recommendation(
            [rec.reading.top_emotion for rec in recs], (time.perf_counter() - start) * 1000
        )
    items = [item for item in results if item is not None]
    succeeded = sum(item.ok for item in items)
    return BatchResponse(
        count=len(items), succeeded=succeeded, failed=len(items) - succeeded, results=items
    )


def _check_parts(parts: list[UploadFile], limit: int) -> list[UploadFile]:
    """The batch's parts: at least one, at most ``limit`` (413 ``too_many_images``)."""
    if not parts:
        raise MissingImage(
            "No pictures were sent: attach them as files in repeated `images` form fields."
        )
    if len(parts) > limit:
        raise TooManyImages(
            f"A batch may hold at most {limit} pictures; this one has {len(parts)}.",
            details={"limit": limit, "actual": len(parts)},
        )
    return parts


async def _decode(
    serving: Serving, engine: Pipeline, parts: list[UploadFile], results: list[BatchItem | None]
) -> list[_Decoded]:
    """Read and decode each part; a part that fails gets its error in ``results`` at once."""
    state = serving.state
    side = DETAIL_WORK_SIDE if state.predictions.keep_images else FAST_WORK_SIDE
    decoded: list[_Decoded] = []
    for i, part in enumerate(parts):
        try:
            data = await read_part(part, state.settings)
            t0 = time.perf_counter()
            image = await state.run(load_image, data, settings=engine.settings, work_side=side)
            decoded.append(_Decoded(i, image, (time.perf_counter() - t0) * 1000))
        except TunelensError as exc:
            results[i] = BatchItem(
                index=i, filename=part.filename, ok=False, error=ErrorBody(**exc.to_dict())
            )
    return decoded


async def _recorded(
    serving: Serving,
    rec: Recommendation,
    origin: Origin,
    latency_ms: float,
    notices: dict[str, list[str]],
) -> RecommendationOut:
    """One batch answer, remembered and recorded (its picture is never kept); ``notices``
    are its visitor's ``notices`` and ``notice_codes``."""
    fields = {**dict(rec), **notices}
    prediction_id, _ = await remember(serving, rec, origin, latency_ms)
    return RecommendationOut(
        **fields,
        prediction_id=prediction_id,
        lang=origin.language,
        **lang_fields(serving.request),
    )
