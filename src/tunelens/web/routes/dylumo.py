"""DyLuMo's routes at the root: ``/health``, ``/stats``, ``/emotions`` and ``POST /recommend``.

They keep DyLuMo's paths and field names, so a DyLuMo client works unchanged; tunelens's
additions are extra keys only.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends

from tunelens import __version__
from tunelens.core import vocab
from tunelens.core.types import Recommendation, RecommendedTrack
from tunelens.web.deps import LoopDep, ServingDep, StateDep
from tunelens.web.schemas.dylumo import (
    DylumoEmotion,
    DylumoEmotions,
    DylumoMetadata,
    DylumoRecommendResponse,
    DylumoTrack,
    FeedbackFigures,
    HealthResponse,
    LatencySummary,
    ServiceStatsOut,
)
from tunelens.web.schemas.errors import ErrorBody, error_responses
from tunelens.web.schemas.forms import DylumoPictureForm
from tunelens.web.services.answers import answer_upload
from tunelens.web.services.form_fields import dylumo_top_k
from tunelens.web.services.language import lang_fields
from tunelens.web.services.state import ServiceState
from tunelens.web.services.visitor_notices import notice_fields

DEVICE = "cpu"
SPOTIFY_EMBED = "https://open.spotify.com/embed/track/{id}"

router = APIRouter(tags=["DyLuMo-compatible"])


def _dylumo_emotions() -> list[str]:
    """DyLuMo's 7 emotions, in its model's order."""
    return list(vocab.emotions().extra["dylumo_order"])


def _dylumo_emotion(rec: Recommendation) -> DylumoEmotion:
    order = _dylumo_emotions()
    raw = {name: rec.reading.emotions.get(name, 0.0) for name in order}
    total = sum(raw.values()) or 1.0
    probs = {name: round(p / total, 4) for name, p in raw.items()}
    predicted = max(order, key=lambda name: probs[name])
    return DylumoEmotion(
        predicted_emotion=predicted, confidence=probs[predicted], all_probabilities=probs
    )


def _dylumo_track(item: RecommendedTrack) -> DylumoTrack:
    track = item.track
    return DylumoTrack(
        rank=item.rank,
        track_id=track.id,
        track_name=track.title,
        artist_name=track.artist,
        emotion=track.emotion or "unknown",
        similarity_score=item.score,
        album=track.album,
        genre=track.genre,
        subgenre=track.subgenre,
        popularity=track.popularity,
        reasons=list(item.reasons),
        score_parts=dict(item.parts),
        links=dict(track.links),
        embed_url=SPOTIFY_EMBED.format(id=track.id) if "spotify" in track.links else None,
    )


def _model_parameters(state: ServiceState) -> str:
    engine = state.engine
    if engine is None:
        return "unknown"
    if engine.info.name == "colour":
        return "0 (weight-free colour encoder)"
    count = engine.encoder_parameters
    if count is not None and count > 0:
        return f"{count / 1e6:.1f}M"
    return "unknown"


def build_stats(state: ServiceState) -> ServiceStatsOut:
    snap = state.stats.snapshot()
    extras: dict[str, Any] = {
        "requests_served": snap["requests_served"],
        "responses_by_status": snap["responses_by_status"],
        "recommendations_served": snap["recommendations_served"],
        "images_read": snap["images_read"],
        "emotion_distribution": snap["emotion_distribution"],
        "latency_ms": LatencySummary(**snap["latency_ms"]),
        "uptime_s": snap["uptime_s"],
    }
    engine = state.engine
    if engine is None:
        return ServiceStatsOut(status="not_loaded", **extras)
    size = engine.catalogue_size
    return ServiceStatsOut(
        status="loaded",
        device=DEVICE,
        model_parameters=_model_parameters(state),
        songs_indexed=size,
        emotions=_dylumo_emotions(),
        visual_model=f"{engine.info.name} ({engine.info.model_id})",
        catalogue_size=size,
        **extras,
    )


def _health_status(
    state: ServiceState, database: dict[str, Any]
) -> Literal["healthy", "degraded", "starting"]:
    if state.engine is not None:
        storage_ok = database["status"] != "unavailable" and not database.get("store_error")
        return "healthy" if storage_ok else "degraded"
    return "degraded" if state.error is not None else "starting"


@router.api_route(
    "/health",
    methods=["GET", "HEAD"],
    response_model=HealthResponse,
    summary="Service health",
)
async def health(state: StateDep, loop: LoopDep) -> HealthResponse:
    """Always 200 while the process runs; `model_loaded` says whether it can recommend, and
    `error` says why not (e.g. `catalog_missing`, `model_missing`). `database` says whether
    predictions and feedback are recorded (`degraded` when not), `heads` which reading heads
    are in use."""
    engine = state.engine
    error = state.error
    database = loop.health()
    return HealthResponse(
        status=_health_status(state, database),
        model_loaded=engine is not None,
        stats=build_stats(state),
        version=__version__,
        encoder=engine.info if engine else None,
        pretrained=engine.info.pretrained if engine else None,
        fallback=engine.info.fallback if engine else None,
        catalogue_size=engine.catalogue_size if engine else None,
        catalogue_version=engine.index.version if engine else None,
        catalogue_hash=engine.index.catalogue_hash if engine else None,
        uptime_s=state.stats.uptime_s(),
        load_seconds=state.load_seconds,
        notices=list(engine.notices) if engine else [],
        error=ErrorBody(**error.to_dict()) if error else None,
        database=database,
        heads=engine.head_info() if engine else None,
    )


@router.get("/stats", response_model=ServiceStatsOut, summary="Service statistics")
async def stats(state: StateDep, loop: LoopDep) -> ServiceStatsOut:
    """DyLuMo's stats object (`status: not_loaded` until the engine is up) plus requests
    served, the distribution of pictures' top emotions, recent latency p50/p95 and, from the
    database, `feedback`: predictions recorded, feedback per kind and the like rate."""
    out = build_stats(state)
    figures = await loop.feedback_figures()
    if figures is not None:
        out.feedback = FeedbackFigures(**figures)
    return out


@router.get("/emotions", response_model=DylumoEmotions, summary="Emotion vocabulary")
async def emotions() -> DylumoEmotions:
    return DylumoEmotions(emotions=_dylumo_emotions(), all_emotions=vocab.emotions().names)


@router.post(
    "/recommend",
    response_model=DylumoRecommendResponse,
    responses=error_responses(400, 401, 413, 415, 422, 503),
    summary="Recommend songs for a picture (DyLuMo's API)",
)
async def recommend_dylumo(
    serving: ServingDep, form: Annotated[DylumoPictureForm, Depends()]
) -> DylumoRecommendResponse:
    """DyLuMo's `POST /recommend`, same field names, plus tunelens's extras (`reading`,
    `encoder`, per-song `reasons`, `links`, `embed_url`, `prediction_id`, `explanation`,
    `upload`)."""
    start = time.perf_counter()
    engine = serving.state.require_engine()
    k = dylumo_top_k(form.top_k, engine.settings.top_k, engine.settings.max_top_k)
    answer = await answer_upload(serving, form, k=k, source="dylumo", start=start)
    rec = answer.rec
    return DylumoRecommendResponse(
        emotion=_dylumo_emotion(rec),
        recommendations=[_dylumo_track(item) for item in rec.tracks],
        inference_time=f"{answer.elapsed_ms / 1000:.2f}s",
        metadata=DylumoMetadata(
            top_k=k,
            total_songs_in_db=rec.catalogue_size,
            device=DEVICE,
            encoder=rec.reading.encoder.name,
            lang=answer.language,
        ),
        reading=rec.reading,
        encoder=rec.reading.encoder,
        prediction_id=answer.prediction_id,
        **notice_fields(engine.notice_codes, answer.language, answer.notices),
        timings_ms=rec.timings_ms,
        explanation=rec.explanation,
        labels=rec.labels,
        upload=answer.upload,
        lang=answer.language,
        **lang_fields(serving.request),
    )
