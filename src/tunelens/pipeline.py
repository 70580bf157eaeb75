"""The pipeline: the one place the engine is assembled, and the one entry every front end calls.

photo → decode → reading (encoder + reader + faces) → target (mapping, blended with the active
learned feature head) → candidates → ranked songs (scoring, diversity, preferences) →
explanation (reasons, text, heatmap) → answer. The CLI, the web routes, batch, "more like
this" and the benchmarks call :meth:`Pipeline.recommend`, :meth:`Pipeline.album` and
:meth:`Pipeline.similar`; none of them reaches into the ranker, the encoder or the mapping.
Loading models and the index is the slow part, so :func:`build_pipeline` runs once per
process, never per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Track, track_out
from tunelens.catalogue.remote import local_catalogue_dir
from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.core.notices import NO_TEXT_EMBEDDINGS, Notice, visitor_codes
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.core.types import (
    AudioTarget,
    EncoderInfo,
    Explanation,
    Reading,
    Recommendation,
    RecommendedTrack,
    TrackOut,
)
from tunelens.explain.answer import ExplainRequest, answer_labels, explain_reading, reword
from tunelens.explain.reasons import (
    ReasonContext,
    add_face_reasons,
    answer_reasons,
    seed_reason,
)
from tunelens.explain.reasons_quantiles import FeatureQuantiles
from tunelens.heads.selection import load_trained_heads
from tunelens.heads.serving import FeatureHeadSlot
from tunelens.i18n import translator
from tunelens.modelhub.loader import load_encoder
from tunelens.reading.faces import FaceReader, load_face_reader
from tunelens.reading.reader import Reader
from tunelens.reading.zeroshot import ZeroShotHeads
from tunelens.recommend.mapping import MoodPoint, mood_point, target_profile
from tunelens.recommend.preferences import NO_PREFERENCES, Preferences
from tunelens.recommend.ranking import RankedSong, Recommender, RecommenderConfig
from tunelens.recommend.similar import check_inputs, reading_from_track, steer_reading, steer_target
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.beside import measure_with
from tunelens.vision.imaging import (
    DETAIL_WORK_SIDE,
    FAST_WORK_SIDE,
    LoadedImage,
    load_image,
)
from tunelens.vision.microbatch import MicroBatchingEncoder
from tunelens.vision.registry import kind_of, unwrap

#: called with each picture's ``timings_ms`` (decode, read, faces, rank, explain/heatmap) right
#: after it is answered; the web app's Prometheus stage histograms register here
stage_observers: list[Callable[[Mapping[str, float]], None]] = []


def observe_stages(observer: Callable[[Mapping[str, float]], None]) -> None:
    """Call ``observer`` with each answered picture's stage timings (once, however often
    apps are built in one process)."""
    if observer not in stage_observers:
        stage_observers.append(observer)


NO_TEXT_EMBEDDINGS_NOTICE = Notice(
    "The catalogue has no song-text embeddings for this model, so picture↔song text "
    "similarity is off; rebuild it with `tunelens catalog build … --encoder clip` to turn it on.",
    NO_TEXT_EMBEDDINGS,
)


@dataclass(frozen=True)
class RecommendOptions:
    """How to answer: how many songs, the listener's words, a heatmap, the language."""

    k: int | None = None
    context: str | None = None
    heatmap: bool = False
    lang: str = "en"
    #: file names or labels of the pictures, in order (None: unnamed)
    labels: Sequence[str | None] | None = None
    #: how long each picture took to decode, in ms (reported in ``timings_ms``)
    decode_ms: Sequence[float] | None = None
    #: word the answers (reasons, explanation, shown labels); batch lines show none of them
    words: bool = True


@dataclass(frozen=True)
class SimilarResult:
    seed: TrackOut
    reading: Reading
    target: AudioTarget
    tracks: list[RecommendedTrack]


@dataclass
class Pipeline:
    settings: Settings
    encoder: Encoder
    reader: Reader
    index: CatalogueIndex
    recommender: Recommender
    info: EncoderInfo
    notices: list[str] = field(default_factory=list)
    #: face expressions (the optional ``faces`` extra); None when off or not installed
    faces: FaceReader | None = None
    #: the active learned audio-feature head (``tunelens train features``), blended into targets
    feature_head: FeatureHeadSlot | None = None

    # ------------------------------------------------------------------ catalogue facts

    @property
    def catalogue_size(self) -> int:
        return self.index.live_count

    @property
    def notice_codes(self) -> list[str]:
        """The notices' stable codes: what front ends translate for visitors (see core.notices)."""
        return visitor_codes(self.notices, colour_only=not kind_of(self.encoder).needs_weights)

    def track(self, track_id: str) -> Track | None:
        """The catalogue track with this id, or None."""
        return self.recommender.track(track_id)

    @property
    def encoder_parameters(self) -> int | None:
        """The picture encoder's parameter count, when it knows it (``/stats``)."""
        count = getattr(unwrap(self.encoder), "n_parameters", None)
        return count if isinstance(count, int) else None

    def reading_heads(self) -> dict[str, dict[str, Any]]:
        """The reading heads in use (emotion, genre), without the audio-feature head."""
        return self.reader.head_info()

    def share_encoder_runs(self, max_batch: int) -> None:
        """Let overlapping requests share encoder runs of up to ``max_batch`` pictures (the
        server's micro-batching; an encoder made of colour statistics never needs it)."""
        self.encoder = MicroBatchingEncoder(self.encoder, max_batch=max_batch)

    def head_info(self) -> dict[str, dict[str, Any]]:
        """Per task, the head in use (``/health``): reading heads and the feature head."""
        info: dict[str, dict[str, Any]] = dict(self.reader.head_info())
        if self.feature_head is not None:
            info["features"] = self.feature_head.describe()
        return info

    def check_k(self, k: int | None) -> int:
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidRequest(
                f"top-k must be between 1 and {self.settings.max_top_k}, got {k}",
                code="invalid_top_k",
                details={"min": 1, "max": self.settings.max_top_k, "actual": k},
            )
        return k

    # ------------------------------------------------------------------ reading

    def embed_and_read(
        self, images: Sequence[LoadedImage], context: str | None = None
    ) -> tuple[FloatArray, list[Reading]]:
        """Embeddings and readings (faces not yet blended in) of decoded pictures.

        The colour statistics are measured once (a lone picture's beside the encoder's run):
        the reader needs them, and an encoder whose embedding *is* those statistics gets them
        instead of measuring again (:func:`~tunelens.vision.beside.measure_with`)."""
        embeddings, stats = measure_with(self.encoder, images)
        return embeddings, self.reader.read(images, embeddings, context, stats=stats)

    def read(self, images: Sequence[LoadedImage], context: str | None = None) -> list[Reading]:
        _, readings = self.embed_and_read(images, context)
        return self.with_faces(images, readings)

    def with_faces(self, images: Sequence[LoadedImage], readings: list[Reading]) -> list[Reading]:
        """Readings with the pictures' face expressions blended in (when faces are on)."""
        if self.faces is None:
            return readings
        return [self.faces.apply(i, r) for i, r in zip(images, readings, strict=True)]

    def target_for(self, reading: Reading, embedding: FloatArray | None) -> AudioTarget:
        """The mapping's target, blended with the active feature head's prediction for this
        picture (``TUNELENS_FEATURE_HEAD_BLEND``); the plain mapping without a head."""
        target = target_profile(reading, self.recommender.profiles, self.reader.scale)
        if self.feature_head is None or embedding is None:
            return target
        features = self.feature_head.blend_targets([target.features], embedding)[0]
        return AudioTarget(features=features, weights=target.weights, genres=target.genres)

    def mood_point(self, reading: Reading) -> MoodPoint:
        """What the mapping asks the songs for (the picture's place among photos, its vibe
        folded onto the catalogue's genres): what the explanation and the reasons name."""
        return mood_point(reading, self.recommender.profiles, self.reader.scale)

    @cached_property
    def feature_quantiles(self) -> FeatureQuantiles:
        """The catalogue's sorted feature values the reasons measure songs against (once)."""
        return FeatureQuantiles.from_matrix(self.index.feature_names, self.index.raw_features())

    # ------------------------------------------------------------------ ranking

    def _answer_tracks(
        self, reading: Reading, target: AudioTarget, ranked: Sequence[RankedSong], lang: str | None
    ) -> list[RecommendedTrack]:
        """Ranked songs as answers, each with its reasons in ``lang`` (None: no reasons)."""
        if lang is None:
            worded: list[list[str]] = [[] for _ in ranked]
        else:
            point = self.mood_point(reading)
            worded = answer_reasons(
                ReasonContext(reading, target, self.feature_quantiles, point),
                ranked,
                translator(lang),
            )
        tracks = [
            RecommendedTrack(
                rank=song.rank,
                score=song.score,
                parts=song.parts,
                reasons=reasons,
                track=track_out(song.track),
            )
            for song, reasons in zip(ranked, worded, strict=True)
        ]
        return tracks if lang is None else add_face_reasons(reading, tracks, translator(lang))

    def rank(  # noqa: PLR0913 - the call shape the front ends are being switched to
        self,
        reading: Reading,
        target: AudioTarget,
        k: int,
        preferences: Preferences = NO_PREFERENCES,
        *,
        embedding: FloatArray | None = None,
        lang: str | None = "en",
    ) -> list[RecommendedTrack]:
        """Top ``k`` songs for a reading and target, with reasons (none when ``lang`` is None)."""
        use_text = embedding is not None and kind_of(self.encoder).text_tower
        ranked = self.recommender.recommend(
            reading,
            target,
            k=k,
            image_embedding=embedding if use_text else None,
            preferences=preferences,
        )
        tracks = self._answer_tracks(reading, target, ranked, lang)
        for item, song in zip(tracks, ranked, strict=True):
            item._part_values = dict(song.part_values)
        return tracks

    def reword(self, rec: Recommendation, lang: str) -> Recommendation:
        """The same answer — reading, songs, order, scores, heatmap — in ``lang``'s words (the
        page keeps a visitor's songs when they switch language). Songs whose parts were not
        kept, or that left the catalogue, keep their reasons as they were."""
        ranked = [
            RankedSong(item.rank, item.score, item.parts, item._part_values, track)
            for item in rec.tracks
            if item._part_values and (track := self.track(item.track.id)) is not None
        ]
        worded = self._answer_tracks(rec.reading, rec.target, ranked, lang)
        return reword(rec, worded, lang, self.mood_point(rec.reading))

    # long: one picture's whole answer, timed stage by stage; splitting it would scatter the timings
    def recommend(
        self,
        images: Sequence[LoadedImage],
        options: RecommendOptions | None = None,
        preferences: Preferences = NO_PREFERENCES,
    ) -> list[Recommendation]:
        """Readings and top-``k`` songs for decoded pictures (batched through the encoder).

        Each answer carries an explanation in ``options.lang``; ``options.heatmap`` adds the
        saliency overlay and the regions that mattered (occlusion: ~37 extra reads a picture).
        """
        options = options or RecommendOptions()
        k = self.check_k(options.k)
        labels = list(options.labels) if options.labels is not None else [None] * len(images)
        start = time.perf_counter()
        embeddings, readings = self.embed_and_read(images, options.context)
        per_image_read = (time.perf_counter() - start) * 1000 / max(1, len(images))
        t_faces = time.perf_counter()
        readings = self.with_faces(images, readings)
        per_image_faces = (time.perf_counter() - t_faces) * 1000 / max(1, len(images))
        out = []
        for i, (image, reading) in enumerate(zip(images, readings, strict=True)):
            t0 = time.perf_counter()
            target = self.target_for(reading, embeddings[i : i + 1])
            lang = options.lang if options.words else None
            tracks = self.rank(reading, target, k, preferences, embedding=embeddings[i], lang=lang)
            timings = {"read": round(per_image_read, 2)}
            if self.faces is not None:
                timings["faces"] = round(per_image_faces, 2)
            if options.decode_ms is not None:
                timings["decode"] = round(options.decode_ms[i], 2)
            timings["rank"] = round((time.perf_counter() - t0) * 1000, 2)
            t1 = time.perf_counter()
            explanation = self.explain(image, reading, options) if options.words else None
            if explanation is not None:
                stage = "heatmap" if options.heatmap else "explain"
                timings[stage] = round((time.perf_counter() - t1) * 1000, 2)
            for observe in stage_observers:
                observe(timings)
            rec = Recommendation(
                image=labels[i],
                image_sha256=image.sha256,
                reading=reading,
                target=target,
                tracks=tracks,
                notices=list(self.notices),
                timings_ms=timings,
                catalogue_size=self.catalogue_size,
                explanation=explanation,
                labels=answer_labels(reading, explanation.mood, options.lang)
                if explanation is not None
                else None,
            )
            rec._image = image
            out.append(rec)
        return out

    def recommend_file(
        self,
        source: bytes | str | Path,
        options: RecommendOptions | None = None,
        preferences: Preferences = NO_PREFERENCES,
        *,
        keep_detail: bool = False,
    ) -> Recommendation:
        """Decode one picture (path or bytes) and recommend for it.

        The picture is decoded small unless a heatmap is asked for or ``keep_detail`` says
        the caller will show the decoded pixels later (e.g. to an LLM)."""
        options = options or RecommendOptions()
        t0 = time.perf_counter()
        side = DETAIL_WORK_SIDE if options.heatmap or keep_detail else FAST_WORK_SIDE
        image = load_image(source, settings=self.settings, work_side=side)
        decode = (time.perf_counter() - t0) * 1000
        label = options.labels[0] if options.labels else None
        if label is None and not isinstance(source, bytes):
            label = Path(source).name
        one = replace(options, labels=[label], decode_ms=[decode])
        return self.recommend([image], one, preferences)[0]

    def explain(
        self, image: LoadedImage, reading: Reading, options: RecommendOptions
    ) -> Explanation:
        """The template explanation of a reading, with the heatmap and its regions on request."""
        request = ExplainRequest(
            heatmap=options.heatmap,
            lang=options.lang,
            context=options.context,
            point=self.mood_point(reading),
        )
        return explain_reading(self.encoder, self.reader, image, reading, request)

    def album(self, reading: Reading, target: AudioTarget, size: int) -> list[RecommendedTrack]:
        """One playlist for many pictures: songs for their mean reading and mean target (the
        targets the pictures were answered with, so an active feature head counts)."""
        return self.rank(reading, target, size)

    def similar(
        self,
        track_id: str,
        options: RecommendOptions | None = None,
        preferences: Preferences = NO_PREFERENCES,
        *,
        reading: Reading | None = None,
        target: AudioTarget | None = None,
    ) -> SimilarResult:
        """Songs like ``track_id`` that still fit the picture (its reading and target when
        given, else a stand-in reading from the song), never the seed itself.

        Raises ``NotFound`` for an unknown id and ``InvalidRequest`` for a bad ``k``, reading
        or target."""
        options = options or RecommendOptions()
        k = self.check_k(options.k)
        seed = self.track(track_id)
        if seed is None:
            self.index.catalogue.by_id(track_id)  # raises NotFound with the standard message
            raise NotFound(f"unknown track {track_id}")  # pragma: no cover
        check_inputs(self.index.features, reading, target)
        base_reading = reading or reading_from_track(seed, self.info)
        # a stand-in reading from the song is on people's scale, not the reader's
        scale = self.reader.scale if reading is not None else None
        base_target = target or target_profile(base_reading, self.recommender.profiles, scale)
        steered_reading = steer_reading(base_reading, seed)
        steered_target = steer_target(base_target, seed)
        tracks = self.rank(
            steered_reading,
            steered_target,
            k,
            preferences.excluding([track_id]),
            lang=options.lang,
        )
        t = translator(options.lang)
        for item in tracks:
            shown = self.track(item.track.id)
            if shown is not None:
                item.reasons = [seed_reason(seed, shown, t), *item.reasons][:3]
        return SimilarResult(
            seed=track_out(seed), reading=steered_reading, target=steered_target, tracks=tracks
        )


def encoder_info(model: Encoder, choice: EncoderChoice) -> EncoderInfo:
    """What answers say about the encoder: its name, weights, and whether ``auto`` fell back
    to the weight-free reader."""
    return EncoderInfo(
        name=model.name,
        pretrained=model.is_pretrained,
        fallback=choice == "auto" and not kind_of(model).needs_weights,
        model_id=model.model_id,
    )


def build_reader(model: Encoder, info: EncoderInfo, settings: Settings) -> tuple[Reader, list[str]]:
    """The reader for ``model``: zero-shot heads (encoders with a text tower) or colour, plus
    any trained heads for this exact encoder (``settings.heads_dir``), and notices about them.
    Training builds its reader here too, so it reads pictures exactly as serving does."""
    heads = ZeroShotHeads(model, settings.cache_dir) if kind_of(model).text_tower else None
    trained, notices = load_trained_heads(
        settings.heads_dir, model.model_id, model.dim, settings.head_pins()
    )
    return Reader(model, heads, info, trained), notices


def build_pipeline(
    settings: Settings | None = None,
    *,
    encoder: EncoderChoice | None = None,
    catalog_dir: Path | None = None,
) -> Pipeline:
    """Load the encoder, reader, heads and catalogue index named by settings (or arguments)."""
    settings = settings or get_settings()
    choice: EncoderChoice = encoder or settings.encoder
    index = CatalogueIndex.load(
        local_catalogue_dir(catalog_dir or settings.catalog_location, settings)
    )
    model, notices = load_encoder(choice, settings)
    info = encoder_info(model, choice)
    face_reader, face_notices = load_face_reader(settings.faces)
    reader, head_notices = build_reader(model, info, settings)
    feature_head = FeatureHeadSlot(
        settings.heads_dir,
        model.model_id,
        model.dim,
        blend=settings.feature_head_blend,
        pinned=settings.head_features,
    )
    notices = [*notices, *face_notices, *head_notices, *feature_head.notices]
    text_embeddings = None
    if kind_of(model).text_tower:
        text_embeddings = index.text_embeddings_for(model.model_id)
        if text_embeddings is None:
            notices.append(NO_TEXT_EMBEDDINGS_NOTICE)
    config = RecommenderConfig(max_per_artist=settings.max_per_artist, reading_scale=reader.scale)
    return Pipeline(
        settings=settings,
        encoder=model,
        reader=reader,
        index=index,
        recommender=Recommender(index, text_embeddings=text_embeddings, config=config),
        info=info,
        notices=notices,
        faces=face_reader,
        feature_head=feature_head,
    )


def reopen_catalogue(pipeline: Pipeline, location: str | Path) -> Pipeline:
    """The same engine (encoder, reader, heads) over the current version of the catalogue at
    ``location``: what a running server switches to when ``catalog add``/``remove`` wrote a
    new version. The pipeline given is not changed; requests holding it finish on it."""
    index = CatalogueIndex.load(local_catalogue_dir(location, pipeline.settings))
    text_embeddings = None
    if kind_of(pipeline.encoder).text_tower:
        text_embeddings = index.text_embeddings_for(pipeline.encoder.model_id)
    recommender = Recommender(
        index, text_embeddings=text_embeddings, config=pipeline.recommender.config
    )
    return replace(pipeline, index=index, recommender=recommender)
