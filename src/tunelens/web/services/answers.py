"""What both single-picture recommend routes (DyLuMo's and ``/api/v1``) do, and what every
answer goes through afterwards: it gets a ``prediction_id``, is recorded, and its picture is
kept iff the listener consented. Only the answer's shape differs between the routes.

Handlers stay thin: CPU-bound engine work runs in the bounded worker pool
(:meth:`ServiceState.run <tunelens.web.services.state.ServiceState.run>`), so the event loop
keeps answering.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from tunelens.core.errors import TunelensError
from tunelens.core.settings import Settings
from tunelens.core.types import Recommendation
from tunelens.pipeline import RecommendOptions
from tunelens.storage.strip import StrippedImage, strip_image
from tunelens.web.errors import MissingImage
from tunelens.web.schemas.forms import PictureForm
from tunelens.web.schemas.recommend import UploadOut
from tunelens.web.services.form_fields import parse_context, parse_exclude, parse_flag
from tunelens.web.services.identity import client_from
from tunelens.web.services.language import resolve_lang
from tunelens.web.services.state import Serving
from tunelens.web.services.upload_parts import read_part

log = logging.getLogger("tunelens.web")


@dataclass(frozen=True)
class Origin:
    """Who asked, in which language and through which route: recorded with the answer."""

    language: str
    client: str | None
    #: ``dylumo``, ``api`` or ``batch``
    source: str


@dataclass(frozen=True)
class Picture:
    """The uploaded bytes, whether the listener lets tunelens keep them, and (with consent)
    the copy to keep, re-encoded without metadata in the work queue (None: it could not be)."""

    data: bytes
    consent: bool
    stripped: StrippedImage | None = None


@dataclass
class Answered:
    """One uploaded picture, answered, recorded and (with consent) kept."""

    rec: Recommendation
    prediction_id: str
    upload: UploadOut | None
    elapsed_ms: float
    language: str
    #: notices about the request itself (e.g. a language fallback), beside the answer's own
    notices: list[str]


async def answer_upload(
    serving: Serving, form: PictureForm, *, k: int, source: str, start: float
) -> Answered:
    """Parse the form, recommend (the listener's feedback shapes the songs), count it in
    /stats, record the prediction and keep the picture iff consent.

    ``k`` is already decided by the route's own ``top_k`` rule; ``start`` is when the request
    began (its latency includes reading the upload)."""
    request, state, loop = serving.request, serving.state, serving.loop
    engine = state.require_engine()
    language, notices = resolve_lang(request, form.lang, form.lang_query)
    text = parse_context(form.context, state.web.max_context_chars)
    excluded = parse_exclude(form.exclude, state.web.max_exclude_ids)
    keep = parse_flag(form.consent, "consent")
    client = client_from(request, form.client_id)
    preferences = await loop.preferences(client, excluded)
    wants_heatmap = parse_flag(form.heatmap, "heatmap")
    image = form.image
    if image is None:
        raise MissingImage(
            "No picture was sent: attach it as a file in the multipart form field `image`."
        )
    data = await read_part(image, state.settings)
    options = RecommendOptions(
        k=k, context=text, heatmap=wants_heatmap, lang=language, labels=[image.filename or None]
    )
    strip_for = engine.settings if keep and loop.can_keep_uploads else None
    keep_detail = state.predictions.keep_images

    def read_and_strip() -> tuple[Recommendation, StrippedImage | None]:
        # one queued job: the picture is decoded for reading and (with consent) for keeping
        # one after the other on one worker, so no more of them run at once than the queue
        # allows and each request's memory stays bounded (see storage.strip)
        rec = engine.recommend_file(data, options, preferences, keep_detail=keep_detail)
        return rec, _stripped(data, strip_for)

    rec, stripped = await state.run(read_and_strip)
    elapsed_ms = (time.perf_counter() - start) * 1000
    state.stats.record_recommendation([rec.reading.top_emotion], elapsed_ms)
    origin = Origin(language, client, source)
    picture = Picture(data, keep, stripped)
    prediction_id, upload = await remember(serving, rec, origin, elapsed_ms, picture)
    return Answered(rec, prediction_id, upload, elapsed_ms, language, notices)


def _stripped(data: bytes, settings: Settings | None) -> StrippedImage | None:
    """The copy to keep (None without consent or storage, or when it cannot be re-encoded:
    the answer stands, the picture is just not kept)."""
    if settings is None:
        return None
    try:
        return strip_image(data, settings=settings)
    except TunelensError as exc:
        log.warning("consented picture not kept: %s [%s]", exc.message, exc.code)
        return None


async def remember(
    serving: Serving,
    rec: Recommendation,
    origin: Origin,
    latency_ms: float,
    picture: Picture | None = None,
) -> tuple[str, UploadOut | None]:
    """Give the answer its ``prediction_id``, record it, and keep the picture iff consent."""
    loop = serving.loop
    prediction_id = await serving.state.predictions.remember(rec, origin.language, origin.client)
    recorded = await loop.record(
        rec,
        prediction_id=prediction_id,
        client_id=origin.client,
        latency_ms=latency_ms,
        source=origin.source,
    )
    upload = None
    if picture is not None:
        upload = await loop.keep_upload(
            picture.data,
            consent=picture.consent,
            client_id=origin.client,
            prediction_id=prediction_id if recorded else None,
            stripped=picture.stripped,
        )
    return prediction_id, upload
