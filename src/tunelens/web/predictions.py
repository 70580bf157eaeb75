"""Recent predictions kept in memory, so follow-up requests (the LLM commentary) can refer to a
picture by its ``prediction_id`` without uploading it again.

A bounded LRU: the oldest entry goes when a new one arrives at capacity, and a restart forgets
everything (the commentary is a nicety, never the record). The photo and heatmap are kept only
when an LLM is configured, as 512-px JPEGs (~30–60 KB each), ready to send.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import anyio.to_thread

from tunelens.explain.llm import Commentary, data_url_bytes, image_data_url
from tunelens.schemas import Reading, Recommendation


@dataclass
class RecentPrediction:
    reading: Reading
    text: str
    lang: str
    regions: list[str] = field(default_factory=list)
    photo_url: str | None = None
    heatmap_url: str | None = None
    commentary: Commentary | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _images(rec: Recommendation) -> tuple[str | None, str | None]:
    image = rec._image
    photo = image_data_url(image.pixels) if image is not None else None
    heatmap = None
    if rec.explanation is not None and rec.explanation.heatmap:
        heatmap = image_data_url(data_url_bytes(rec.explanation.heatmap))
    return photo, heatmap


class PredictionCache:
    """``prediction_id`` → :class:`RecentPrediction`, least recently used first out."""

    def __init__(self, capacity: int = 128, *, keep_images: bool = False) -> None:
        self.capacity = max(1, capacity)
        self.keep_images = keep_images
        self._items: OrderedDict[str, RecentPrediction] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    async def remember(self, rec: Recommendation, lang: str) -> str:
        """Store one answer and return its new ``prediction_id``."""
        photo = heatmap = None
        if self.keep_images:  # JPEG encoding is CPU work: off the event loop
            photo, heatmap = await anyio.to_thread.run_sync(_images, rec)
        explanation = rec.explanation
        entry = RecentPrediction(
            reading=rec.reading,
            text=explanation.text if explanation else "",
            lang=explanation.lang if explanation else lang,
            regions=[r.label for r in explanation.hot_regions] if explanation else [],
            photo_url=photo,
            heatmap_url=heatmap,
        )
        prediction_id = uuid.uuid4().hex
        with self._lock:
            self._items[prediction_id] = entry
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return prediction_id

    def get(self, prediction_id: str) -> RecentPrediction | None:
        with self._lock:
            entry = self._items.get(prediction_id)
            if entry is not None:
                self._items.move_to_end(prediction_id)
            return entry
