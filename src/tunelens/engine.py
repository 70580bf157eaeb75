"""The engine: one object that holds the loaded encoder, reader and catalogue index.

Front ends (CLI, REST API, batch) build it once and call :meth:`Engine.recommend_images`;
loading models and the index is the slow part, so it never happens per request.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tunelens.catalogue.index import CatalogueIndex
from tunelens.config import EncoderChoice, Settings, get_settings
from tunelens.encoders.base import Encoder
from tunelens.encoders.colour import colour_stats
from tunelens.encoders.factory import load_encoder
from tunelens.errors import InvalidRequest
from tunelens.heads import ZeroShotHeads
from tunelens.imaging import LoadedImage, load_image, thumbnail
from tunelens.mapping import target_profile
from tunelens.reading import Reader
from tunelens.recommender import Recommender
from tunelens.schemas import EncoderInfo, Reading, Recommendation


@dataclass
class Engine:
    settings: Settings
    encoder: Encoder
    reader: Reader
    index: CatalogueIndex
    recommender: Recommender
    info: EncoderInfo
    notices: list[str] = field(default_factory=list)

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
        heads = ZeroShotHeads(model, settings.cache_dir) if model.supports_text else None
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
            reader=Reader(model, heads, info),
            index=index,
            recommender=Recommender(index, text_embeddings=text_embeddings),
            info=info,
            notices=notices,
        )

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
        return self.reader.read(images, embeddings, context)

    def recommend_images(
        self,
        images: Sequence[LoadedImage],
        *,
        labels: Sequence[str | None] | None = None,
        k: int | None = None,
        context: str | None = None,
        exclude: Collection[str] = (),
        decode_ms: Sequence[float] | None = None,
    ) -> list[Recommendation]:
        """Readings and top-``k`` songs for already-decoded pictures (batched through the encoder)."""
        k = self.check_k(k)
        labels = list(labels) if labels is not None else [None] * len(images)
        start = time.perf_counter()
        stats = [colour_stats(thumbnail(image)) for image in images]
        embeddings = self.encoder.embed_images(images)
        readings = self.reader.read(images, embeddings, context, stats=stats)
        per_image_encode = (time.perf_counter() - start) * 1000 / max(1, len(images))
        out = []
        for i, (image, reading) in enumerate(zip(images, readings, strict=True)):
            t0 = time.perf_counter()
            target = target_profile(reading, self.recommender.profiles)
            tracks = self.recommender.recommend(
                reading,
                target,
                k=k,
                image_embedding=embeddings[i] if self.encoder.supports_text else None,
                exclude=exclude,
            )
            timings = {"read": round(per_image_encode, 2)}
            if decode_ms is not None:
                timings["decode"] = round(decode_ms[i], 2)
            timings["rank"] = round((time.perf_counter() - t0) * 1000, 2)
            out.append(
                Recommendation(
                    image=labels[i],
                    image_sha256=image.sha256,
                    reading=reading,
                    target=target,
                    tracks=tracks,
                    notices=list(self.notices),
                    timings_ms=timings,
                    catalogue_size=len(self.recommender.tracks),
                )
            )
        return out

    def recommend(
        self,
        source: bytes | str | Path,
        *,
        label: str | None = None,
        k: int | None = None,
        context: str | None = None,
        exclude: Collection[str] = (),
    ) -> Recommendation:
        """Decode one picture (path or bytes) and recommend for it."""
        t0 = time.perf_counter()
        image = load_image(source, settings=self.settings)
        decode = (time.perf_counter() - t0) * 1000
        if label is None and not isinstance(source, bytes):
            label = Path(source).name
        return self.recommend_images(
            [image], labels=[label], k=k, context=context, exclude=exclude, decode_ms=[decode]
        )[0]
