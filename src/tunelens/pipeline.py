"""The engine: one object that holds the loaded encoder, reader and catalogue index.

Front ends (CLI, REST API, batch) build it once and call :meth:`Engine.recommend_images`;
loading models and the index is the slow part, so it never happens per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.catalogue.index import CatalogueIndex
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import EncoderChoice, Settings, get_settings
from tunelens.core.types import (
    AudioTarget,
    EncoderInfo,
    Explanation,
    HotRegionOut,
    Reading,
    Recommendation,
)
from tunelens.heads.linear import ZeroShotHeads, load_trained_heads
from tunelens.heads.store import FeatureHeadSlot
from tunelens.i18n import resolve as resolve_language
from tunelens.i18n import use as use_language
from tunelens.i18n.labels import answer_labels
from tunelens.reading.faces import FaceReader, add_face_reasons, load_face_reader
from tunelens.reading.reader import Reader
from tunelens.recommend.mapping import target_profile
from tunelens.recommend.ranking import Recommender
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourEncoder, colour_stats
from tunelens.vision.imaging import (
    DETAIL_WORK_SIDE,
    FAST_WORK_SIDE,
    LoadedImage,
    load_image,
    thumbnail,
)
from tunelens.vision.registry import load_encoder

#: called with each picture's ``timings_ms`` (decode, read, faces, rank, explain/heatmap) right
#: after it is answered; the web app's Prometheus stage histograms register here
stage_observers: list[Callable[[Mapping[str, float]], None]] = []


def build_reader(model: Encoder, info: EncoderInfo, settings: Settings) -> tuple[Reader, list[str]]:
    """The reader for ``model``: zero-shot heads (CLIP) or colour, plus any trained heads
    for this exact encoder (``settings.heads_dir``), and notices about the trained heads."""
    heads = ZeroShotHeads(model, settings.cache_dir) if model.supports_text else None
    trained, notices = load_trained_heads(
        settings.heads_dir, model.model_id, model.dim, settings.head_pins()
    )
    return Reader(model, heads, info, trained), notices


@dataclass
class Engine:
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

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        encoder: EncoderChoice | None = None,
        catalog_dir: Path | None = None,
    ) -> Engine:
        """Load the encoder and the catalogue index named by settings (or the arguments)."""
        settings = settings or get_settings()
        choice: EncoderChoice = encoder or settings.encoder
        index = CatalogueIndex.load(catalog_dir or settings.default_catalog_dir)
        model, notices = load_encoder(choice, settings)
        fallback = choice == "auto" and model.name == "colour"
        info = EncoderInfo(
            name=model.name,
            pretrained=model.is_pretrained,
            fallback=fallback,
            model_id=model.model_id,
        )
        face_reader, face_notices = load_face_reader(settings.faces)
        notices.extend(face_notices)
        reader, head_notices = build_reader(model, info, settings)
        notices.extend(head_notices)
        feature_head = FeatureHeadSlot(
            settings.heads_dir,
            model.model_id,
            model.dim,
            blend=settings.feature_head_blend,
            pinned=settings.head_features,
        )
        notices.extend(feature_head.notices)
        text_embeddings = None
        if model.supports_text:
            text_embeddings = index.text_embeddings_for(model.model_id)
            if text_embeddings is None:
                notices.append(
                    "The catalogue has no song-text embeddings for this model, so picture↔song "
                    "text similarity is off; rebuild it with `tunelens catalog build … "
                    "--encoder clip` to turn it on."
                )
        return cls(
            settings=settings,
            encoder=model,
            reader=reader,
            index=index,
            recommender=Recommender(index, text_embeddings=text_embeddings),
            info=info,
            notices=notices,
            faces=face_reader,
            feature_head=feature_head,
        )

    def learned_target(self, target: AudioTarget, embedding: FloatArray) -> AudioTarget:
        """The mapping's target blended with the active feature head's prediction for this
        picture (``TUNELENS_FEATURE_HEAD_BLEND``); unchanged without an active head."""
        if self.feature_head is None:
            return target
        features = self.feature_head.blend_targets([target.features], embedding)[0]
        return AudioTarget(features=features, weights=target.weights)

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

    def read(self, images: Sequence[LoadedImage], context: str | None = None) -> list[Reading]:
        embeddings = self.encoder.embed_images(images)
        return self.with_faces(images, self.reader.read(images, embeddings, context))

    def with_faces(self, images: Sequence[LoadedImage], readings: list[Reading]) -> list[Reading]:
        """Readings with the pictures' face expressions blended in (when faces are on)."""
        if self.faces is None:
            return readings
        return [self.faces.apply(i, r) for i, r in zip(images, readings, strict=True)]

    def recommend_images(
        self,
        images: Sequence[LoadedImage],
        *,
        labels: Sequence[str | None] | None = None,
        k: int | None = None,
        context: str | None = None,
        exclude: Collection[str] = (),
        exclude_artists: Collection[str] = (),
        lift: Sequence[str] = (),
        track_prior: Mapping[str, float] | None = None,
        decode_ms: Sequence[float] | None = None,
        heatmap: bool = False,
        lang: str = "en",
    ) -> list[Recommendation]:
        """Readings and top-``k`` songs for already-decoded pictures (batched through the encoder).

        Each answer carries an explanation in ``lang``; ``heatmap=True`` adds the saliency
        overlay and the regions that mattered (occlusion: ~37 extra reads per picture).
        """
        k = self.check_k(k)
        labels = list(labels) if labels is not None else [None] * len(images)
        start = time.perf_counter()
        stats = [colour_stats(thumbnail(image)) for image in images]
        if isinstance(self.encoder, ColourEncoder):  # its embedding is these statistics
            embeddings = self.encoder.embed_stats(stats)
        else:
            embeddings = self.encoder.embed_images(images)
        readings = self.reader.read(images, embeddings, context, stats=stats)
        per_image_encode = (time.perf_counter() - start) * 1000 / max(1, len(images))
        t_faces = time.perf_counter()
        readings = self.with_faces(images, readings)
        per_image_faces = (time.perf_counter() - t_faces) * 1000 / max(1, len(images))
        out = []
        for i, (image, reading) in enumerate(zip(images, readings, strict=True)):
            t0 = time.perf_counter()
            target = self.learned_target(
                target_profile(reading, self.recommender.profiles), embeddings[i : i + 1]
            )
            with use_language(lang):  # the songs' reasons are written in the answer's language
                tracks = self.recommender.recommend(
                    reading,
                    target,
                    k=k,
                    image_embedding=embeddings[i] if self.encoder.supports_text else None,
                    exclude=exclude,
                    exclude_artists=exclude_artists,
                    lift=lift,
                    track_prior=track_prior,
                )
                tracks = add_face_reasons(reading, tracks)
            timings = {"read": round(per_image_encode, 2)}
            if self.faces is not None:
                timings["faces"] = round(per_image_faces, 2)
            if decode_ms is not None:
                timings["decode"] = round(decode_ms[i], 2)
            timings["rank"] = round((time.perf_counter() - t0) * 1000, 2)
            t1 = time.perf_counter()
            explanation = self.explain(image, reading, heatmap=heatmap, lang=lang, context=context)
            timings["heatmap" if heatmap else "explain"] = round(
                (time.perf_counter() - t1) * 1000, 2
            )
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
                catalogue_size=len(self.recommender.tracks),
                explanation=explanation,
                labels=answer_labels(reading, explanation.mood, lang),
            )
            rec._image = image
            out.append(rec)
        return out

    def explain(
        self,
        image: LoadedImage,
        reading: Reading,
        *,
        heatmap: bool = False,
        lang: str = "en",
        context: str | None = None,
    ) -> Explanation:
        """The template explanation of a reading, with the heatmap and its regions on request."""
        from tunelens.explain.heatmap import compute_heatmap
        from tunelens.explain.text import explanation_text, region_label
        from tunelens.playlists.regional import mood_of

        lang = resolve_language(lang)
        mood = mood_of(reading.valence, reading.arousal)
        if not heatmap:
            return Explanation(text=explanation_text(reading, lang=lang), lang=lang, mood=mood)
        hm = compute_heatmap(self.encoder, self.reader, image, reading, context=context)
        return Explanation(
            text=explanation_text(
                reading,
                lang=lang,
                regions=hm.regions,
                heatmap_target=hm.target,
                heatmap_target_kind=hm.target_kind,
            ),
            lang=lang,
            mood=mood,
            hot_regions=[
                HotRegionOut(
                    row=r.row,
                    col=r.col,
                    share=r.share,
                    content=r.content,
                    content_kind=r.content_kind,
                    label=region_label(r, lang),
                )
                for r in hm.regions
            ],
            heatmap=hm.data_url(image.pixels),
            heatmap_method=hm.method,
            heatmap_target=f"{hm.target_kind}:{hm.target}",
        )

    def recommend(
        self,
        source: bytes | str | Path,
        *,
        label: str | None = None,
        k: int | None = None,
        context: str | None = None,
        exclude: Collection[str] = (),
        exclude_artists: Collection[str] = (),
        lift: Sequence[str] = (),
        track_prior: Mapping[str, float] | None = None,
        heatmap: bool = False,
        lang: str = "en",
        keep_detail: bool = False,
    ) -> Recommendation:
        """Decode one picture (path or bytes) and recommend for it.

        The picture is decoded small unless a heatmap is asked for or ``keep_detail`` says
        the caller will show the decoded pixels later (e.g. to an LLM)."""
        t0 = time.perf_counter()
        side = DETAIL_WORK_SIDE if heatmap or keep_detail else FAST_WORK_SIDE
        image = load_image(source, settings=self.settings, work_side=side)
        decode = (time.perf_counter() - t0) * 1000
        if label is None and not isinstance(source, bytes):
            label = Path(source).name
        return self.recommend_images(
            [image],
            labels=[label],
            k=k,
            context=context,
            exclude=exclude,
            exclude_artists=exclude_artists,
            lift=lift,
            track_prior=track_prior,
            decode_ms=[decode],
            heatmap=heatmap,
            lang=lang,
        )[0]
