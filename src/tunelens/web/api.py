"""REST routes: DyLuMo's paths and field names at the root, everything else under ``/api/v1``.

Handlers are thin: they validate the request, hand CPU-bound engine work to a bounded thread
pool (:meth:`ServiceState.run`) so the event loop keeps answering, and shape the answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from tunelens import __version__, i18n
from tunelens.core import vocab
from tunelens.core.errors import InvalidRequest, NotFound, TunelensError
from tunelens.core.types import Recommendation, TrackOut
from tunelens.recommend.ranking import track_out
from tunelens.recommend.similar import more_like_this
from tunelens.vision.imaging import DETAIL_WORK_SIDE, FAST_WORK_SIDE, LoadedImage, load_image
from tunelens.web.data_loop import DataLoop, client_id_from, get_data_loop
from tunelens.web.errors import MissingImage, TooManyImages
from tunelens.web.models import (
    BatchItem,
    BatchResponse,
    DylumoEmotion,
    DylumoEmotions,
    DylumoMetadata,
    DylumoRecommendResponse,
    DylumoTrack,
    ErrorBody,
    ErrorResponse,
    FeedbackFigures,
    HealthResponse,
    LatencySummary,
    RecommendationOut,
    ServiceStatsOut,
    SimilarRequest,
    SimilarResponse,
    UploadOut,
    VocabResponse,
    VocabTermOut,
)
from tunelens.web.state import ServiceState, get_state
from tunelens.web.uploads import (
    dylumo_top_k,
    parse_context,
    parse_exclude,
    parse_flag,
    read_part,
    strict_top_k,
)

DEVICE = "cpu"
SPOTIFY_EMBED = "https://open.spotify.com/embed/track/{id}"


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


StateDep = Annotated[ServiceState, Depends(get_state)]
LoopDep = Annotated[DataLoop, Depends(get_data_loop)]

ImageField = Annotated[
    UploadFile | None,
    File(description="the picture (JPEG, PNG, WebP, GIF, BMP or TIFF)"),
]
ContextField = Annotated[
    str | None,
    Form(description="optional words about the moment, e.g. 'rainy Sunday morning'"),
]
LangField = Annotated[str | None, Form(description="language of the texts (default `en`)")]
LangQuery = Annotated[str | None, Query(alias="lang", description="same as the form field")]
ExcludeField = Annotated[
    list[str] | None,
    Form(description="track ids to leave out: repeat the field or separate ids with commas"),
]
HeatmapField = Annotated[
    str | None,
    Form(
        description="`true` adds `explanation.heatmap` (a PNG data URL of the saliency overlay) "
        "and `explanation.hot_regions`"
    ),
]

ConsentField = Annotated[
    str | None,
    Form(
        description="`true` keeps the picture to improve tunelens (stored without EXIF/GPS, "
        "deletable by its sha256); absent or `false`: it is not kept"
    ),
]
ClientField = Annotated[
    str | None,
    Form(
        description="anonymous listener id whose feedback shapes the results (default: the "
        "`X-Client-Id` header or the `tunelens_client` cookie)"
    ),
]

dylumo = APIRouter(tags=["DyLuMo-compatible"])
v1 = APIRouter(prefix="/api/v1")


# --- shared helpers --------------------------------------------------------------------------


def resolve_lang(
    request: Request, form_value: str | None, query_value: str | None
) -> tuple[str, list[str]]:
    """The language to answer in (``lang`` field, ``?lang=``, else ``Accept-Language``, else
    English), plus a notice when the requested one is not available.

    The choice is kept on ``request.state`` for :func:`lang_fields` and for the error handler,
    so an error raised later in the request speaks the same language.
    """
    choice = i18n.negotiate(
        form_value or query_value, accept_language=request.headers.get("accept-language")
    )
    request.state.lang_choice = choice
    return choice.lang, [choice.notice] if choice.notice else []


def lang_fields(request: Request) -> dict[str, Any]:
    """``lang_fallback`` and ``lang_notice`` of the answer (see :func:`resolve_lang`)."""
    choice = getattr(request.state, "lang_choice", None) or i18n.LangChoice(i18n.DEFAULT_LANG)
    return {"lang_fallback": choice.fallback, "lang_notice": choice.notice}


@dataclass
class _Answered:
    """One uploaded picture, answered, recorded and (with consent) kept."""

    rec: Recommendation
    prediction_id: str
    upload: UploadOut | None
    elapsed_ms: float
    language: str
    #: notices about the request itself (e.g. a language fallback), beside the answer's own
    notices: list[str]


async def _answer_upload(
    request: Request,
    state: ServiceState,
    loop: DataLoop,
    image: UploadFile | None,
    *,
    start: float,
    k: int,
    source: str,
    context: str | None,
    lang: str | None,
    lang_query: str | None,
    exclude: list[str] | None,
    heatmap: str | None,
    consent: str | None,
    client_id: str | None,
) -> _Answered:
    """What both recommend routes (DyLuMo's and /api/v1) do once ``k`` is known: parse the
    form, recommend (the listener's feedback shapes the songs), count it in /stats, record
    the prediction and keep the picture iff consent. Only the answer's shape differs."""
    engine = state.require_engine()
    language, notices = resolve_lang(request, lang, lang_query)
    text = parse_context(context, state.web.max_context_chars)
    excluded = parse_exclude(exclude, state.web.max_exclude_ids)
    keep = parse_flag(consent, "consent")
    client = client_id_from(request, client_id)
    feedback = await loop.recommend_kwargs(client, excluded)
    wants_heatmap = parse_flag(heatmap, "heatmap")
    if image is None:
        raise MissingImage(
            "No picture was sent: attach it as a file in the multipart form field `image`."
        )
    data = await read_part(image, state.settings)
    rec = await state.run(
        engine.recommend,
        data,
        label=image.filename or None,
        k=k,
        context=text,
        heatmap=wants_heatmap,
        lang=language,
        keep_detail=state.predictions.keep_images,
        **feedback,
    )
    elapsed_ms = (time.perf_counter() - start) * 1000
    state.stats.record_recommendation([rec.reading.top_emotion], elapsed_ms)
    prediction_id, upload = await _remember(
        state,
        loop,
        rec,
        language=language,
        client=client,
        latency_ms=elapsed_ms,
        source=source,
        data=data,
        consent=keep,
    )
    return _Answered(rec, prediction_id, upload, elapsed_ms, language, notices)


async def _remember(
    state: ServiceState,
    loop: DataLoop,
    rec: Recommendation,
    *,
    language: str,
    client: str | None,
    latency_ms: float,
    source: str,
    data: bytes | None = None,
    consent: bool = False,
) -> tuple[str, UploadOut | None]:
    """Give the answer its ``prediction_id``, record it, and keep the picture iff consent."""
    prediction_id = await state.predictions.remember(rec, language)
    recorded = await loop.record(
        rec, prediction_id=prediction_id, client_id=client, latency_ms=latency_ms, source=source
    )
    upload = None
    if data is not None:
        upload = await loop.keep_upload(
            data,
            consent=consent,
            client_id=client,
            prediction_id=prediction_id if recorded else None,
        )
    return prediction_id, upload


def _dylumo_emotion(rec: Recommendation) -> DylumoEmotion:
    order: list[str] = list(vocab.emotions().extra["dylumo_order"])
    raw = {name: rec.reading.emotions.get(name, 0.0) for name in order}
    total = sum(raw.values()) or 1.0
    probs = {name: round(p / total, 4) for name, p in raw.items()}
    predicted = max(order, key=lambda name: probs[name])
    return DylumoEmotion(
        predicted_emotion=predicted, confidence=probs[predicted], all_probabilities=probs
    )


def _dylumo_track(item: Any) -> DylumoTrack:
    track: TrackOut = item.track
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
    count = getattr(engine.encoder, "n_parameters", None)
    if isinstance(count, int) and count > 0:
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
    size = len(engine.recommender.tracks)
    return ServiceStatsOut(
        status="loaded",
        device=DEVICE,
        model_parameters=_model_parameters(state),
        songs_indexed=size,
        emotions=list(vocab.emotions().extra["dylumo_order"]),
        visual_model=f"{engine.info.name} ({engine.info.model_id})",
        catalogue_size=size,
        **extras,
    )


# --- DyLuMo-compatible routes --------------------------------------------------------------


@dylumo.get("/health", response_model=HealthResponse, summary="Service health")
async def health(state: StateDep, loop: LoopDep) -> HealthResponse:
    """Always 200 while the process runs; `model_loaded` says whether it can recommend, and
    `error` says why not (e.g. `catalog_missing`, `model_missing`). `database` says whether
    predictions and feedback are recorded (`degraded` when not), `heads` which reading heads
    are in use."""
    engine = state.engine
    error = state.error
    database = loop.health()
    if engine is not None:
        storage_ok = database["status"] != "unavailable" and not database.get("store_error")
        status = "healthy" if storage_ok else "degraded"
    elif error is not None:
        status = "degraded"
    else:
        status = "starting"
    return HealthResponse(
        status=status,
        model_loaded=engine is not None,
        stats=build_stats(state),
        version=__version__,
        encoder=engine.info if engine else None,
        pretrained=engine.info.pretrained if engine else None,
        fallback=engine.info.fallback if engine else None,
        catalogue_size=len(engine.recommender.tracks) if engine else None,
        uptime_s=state.stats.uptime_s(),
        load_seconds=state.load_seconds,
        notices=list(engine.notices) if engine else [],
        error=ErrorBody(**error.to_dict()) if error else None,
        database=database,
        heads=engine.head_info() if engine else None,
    )


@dylumo.get("/stats", response_model=ServiceStatsOut, summary="Service statistics")
async def stats(state: StateDep, loop: LoopDep) -> ServiceStatsOut:
    """DyLuMo's stats object (`status: not_loaded` until the engine is up) plus requests
    served, the distribution of pictures' top emotions, recent latency p50/p95 and, from the
    database, `feedback`: predictions recorded, feedback per kind and the like rate."""
    out = build_stats(state)
    figures = await loop.feedback_figures()
    if figures is not None:
        out.feedback = FeedbackFigures(**figures)
    return out


@dylumo.get("/emotions", response_model=DylumoEmotions, summary="Emotion vocabulary")
async def emotions() -> DylumoEmotions:
    return DylumoEmotions(
        emotions=list(vocab.emotions().extra["dylumo_order"]),
        all_emotions=vocab.emotions().names,
    )


@dylumo.post(
    "/recommend",
    response_model=DylumoRecommendResponse,
    responses=_errors(400, 413, 415, 422, 503),
    summary="Recommend songs for a picture (DyLuMo's API)",
)
async def recommend_dylumo(
    request: Request,
    state: StateDep,
    loop: LoopDep,
    image: ImageField = None,
    top_k: Annotated[
        str | None,
        Form(description="songs to return; default 10, clamped to 1..50, not a number → 10"),
    ] = None,
    context: ContextField = None,
    lang: LangField = None,
    lang_query: LangQuery = None,
    exclude: ExcludeField = None,
    heatmap: HeatmapField = None,
    consent: ConsentField = None,
    client_id: ClientField = None,
) -> DylumoRecommendResponse:
    """DyLuMo's `POST /recommend`, same field names, plus tunelens's extras (`reading`,
    `encoder`, per-song `reasons`, `links`, `embed_url`, `prediction_id`, `explanation`,
    `upload`)."""
    start = time.perf_counter()
    engine = state.require_engine()
    k = dylumo_top_k(top_k, engine.settings.top_k, engine.settings.max_top_k)
    answer = await _answer_upload(
        request,
        state,
        loop,
        image,
        start=start,
        k=k,
        source="dylumo",
        context=context,
        lang=lang,
        lang_query=lang_query,
        exclude=exclude,
        heatmap=heatmap,
        consent=consent,
        client_id=client_id,
    )
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
        notices=[*rec.notices, *answer.notices],
        timings_ms=rec.timings_ms,
        explanation=rec.explanation,
        labels=rec.labels,
        upload=answer.upload,
        lang=answer.language,
        **lang_fields(request),
    )


# --- /api/v1 -------------------------------------------------------------------------------


@v1.post(
    "/recommend",
    response_model=RecommendationOut,
    responses=_errors(400, 413, 415, 422, 503),
    tags=["recommend"],
    summary="Read a picture and recommend songs",
)
async def recommend_v1(
    request: Request,
    state: StateDep,
    loop: LoopDep,
    image: ImageField = None,
    top_k: Annotated[str | None, Form(description="songs to return, 1..50 (default 10)")] = None,
    context: ContextField = None,
    lang: LangField = None,
    lang_query: LangQuery = None,
    exclude: ExcludeField = None,
    heatmap: HeatmapField = None,
    consent: ConsentField = None,
    client_id: ClientField = None,
) -> RecommendationOut:
    """The picture's reading, its target audio profile and the top songs with their score,
    score parts and reasons, plus `explanation` (text; with `heatmap=true` also the overlay
    and the regions that mattered). An out-of-range `top_k` is an error (`invalid_top_k`).
    The listener's feedback (`client_id`) shapes the songs; `consent=true` keeps the picture."""
    start = time.perf_counter()
    engine = state.require_engine()
    k = engine.check_k(strict_top_k(top_k))
    answer = await _answer_upload(
        request,
        state,
        loop,
        image,
        start=start,
        k=k,
        source="api",
        context=context,
        lang=lang,
        lang_query=lang_query,
        exclude=exclude,
        heatmap=heatmap,
        consent=consent,
        client_id=client_id,
    )
    fields = dict(answer.rec)
    fields["notices"] = [*answer.rec.notices, *answer.notices]
    return RecommendationOut(
        **fields,
        prediction_id=answer.prediction_id,
        lang=answer.language,
        upload=answer.upload,
        **lang_fields(request),
    )


@v1.post(
    "/recommend/batch",
    response_model=BatchResponse,
    responses=_errors(400, 413, 415, 422, 503),
    tags=["recommend"],
    summary="Recommend for several pictures at once",
)
async def recommend_batch(
    request: Request,
    state: StateDep,
    loop: LoopDep,
    images: Annotated[
        list[UploadFile] | None,
        File(description="the pictures: repeat the `images` field (up to the configured max)"),
    ] = None,
    top_k: Annotated[str | None, Form(description="songs per picture, 1..50")] = None,
    context: ContextField = None,
    lang: LangField = None,
    lang_query: LangQuery = None,
    exclude: ExcludeField = None,
    client_id: ClientField = None,
) -> BatchResponse:
    """One result per part, in order. A picture that cannot be read gets its own `error`
    (same codes as `/api/v1/recommend`) without failing the others. More parts than
    `TUNELENS_MAX_BATCH_IMAGES` (default 8) → 413 `too_many_images`."""
    start = time.perf_counter()
    engine = state.require_engine()
    parts = images or []
    if not parts:
        raise MissingImage(
            "No pictures were sent: attach them as files in repeated `images` form fields."
        )
    limit = state.web.max_batch_images
    if len(parts) > limit:
        raise TooManyImages(
            f"A batch may hold at most {limit} pictures; this one has {len(parts)}.",
            details={"limit": limit, "actual": len(parts)},
        )
    k = engine.check_k(strict_top_k(top_k))
    language, notices = resolve_lang(request, lang, lang_query)
    text = parse_context(context, state.web.max_context_chars)
    excluded = parse_exclude(exclude, state.web.max_exclude_ids)
    client = client_id_from(request, client_id)
    feedback = await loop.recommend_kwargs(client, excluded)

    results: list[BatchItem | None] = [None] * len(parts)
    decoded: list[tuple[int, LoadedImage, float]] = []
    for i, part in enumerate(parts):
        try:
            data = await read_part(part, state.settings)
            t0 = time.perf_counter()
            side = DETAIL_WORK_SIDE if state.predictions.keep_images else FAST_WORK_SIDE
            image = await state.run(load_image, data, settings=engine.settings, work_side=side)
            decoded.append((i, image, (time.perf_counter() - t0) * 1000))
        except TunelensError as exc:
            results[i] = BatchItem(
                index=i, filename=part.filename, ok=False, error=ErrorBody(**exc.to_dict())
            )
    if decoded:
        recs = await state.run(
            engine.recommend_images,
            [image for _, image, _ in decoded],
            labels=[parts[i].filename or None for i, _, _ in decoded],
            k=k,
            context=text,
            decode_ms=[ms for _, _, ms in decoded],
            lang=language,
            **feedback,
        )
        per_image_ms = (time.perf_counter() - start) * 1000 / len(recs)
        for (i, _, _), rec in zip(decoded, recs, strict=True):
            fields = dict(rec)
            fields["notices"] = [*rec.notices, *notices]
            prediction_id, _ = await _remember(
                state,
                loop,
                rec,
                language=language,
                client=client,
                latency_ms=per_image_ms,
                source="batch",
            )
            out = RecommendationOut(
                **fields, prediction_id=prediction_id, lang=language, **lang_fields(request)
            )
            results[i] = BatchItem(index=i, filename=parts[i].filename, ok=True, recommendation=out)
        state.stats.record_recommendation(
            [rec.reading.top_emotion for rec in recs], (time.perf_counter() - start) * 1000
        )
    items = [item for item in results if item is not None]
    succeeded = sum(item.ok for item in items)
    return BatchResponse(
        count=len(items), succeeded=succeeded, failed=len(items) - succeeded, results=items
    )


@v1.get(
    "/tracks/{track_id}",
    response_model=TrackOut,
    responses=_errors(404, 503),
    tags=["catalogue"],
    summary="One song of the catalogue",
)
async def get_track(state: StateDep, track_id: str) -> TrackOut:
    engine = state.require_engine()
    row = engine.recommender.id_to_row.get(track_id)
    if row is None:
        raise NotFound(
            f"There is no track with id {track_id!r} in the catalogue.",
            details={"track_id": track_id},
        )
    return track_out(engine.recommender.tracks[row])


@v1.post(
    "/similar",
    response_model=SimilarResponse,
    responses=_errors(404, 413, 422, 503),
    tags=["recommend"],
    summary='"More like this"',
)
async def similar(
    request: Request, state: StateDep, loop: LoopDep, body: SimilarRequest
) -> SimilarResponse:
    """Songs like `track_id` that still fit the picture (send the `reading` and/or `target`
    of the recommend answer), leaving out `exclude` (the ids already shown) and the seed;
    the listener's feedback (`client_id`) applies as on recommend."""
    start = time.perf_counter()
    engine = state.require_engine()
    if len(body.exclude) > state.web.max_exclude_ids:
        raise InvalidRequest(
            f"exclude lists at most {state.web.max_exclude_ids} track ids.",
            code="too_many_excluded",
            details={"limit": state.web.max_exclude_ids, "actual": len(body.exclude)},
        )
    client = client_id_from(request, body.client_id)
    language, _notices = resolve_lang(request, body.lang, None)
    result = await state.run(
        more_like_this,
        engine,
        body.track_id,
        reading=body.reading,
        target=body.target,
        k=body.top_k,
        lang=language,
        **await loop.recommend_kwargs(client, body.exclude),
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


@v1.get(
    "/vocab/{kind}",
    response_model=VocabResponse,
    responses=_errors(404),
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
