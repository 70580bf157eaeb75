"""Recent predictions kept in memory, so follow-up requests (the LLM commentary, the same
answer in another language) can refer to a picture by its ``prediction_id`` without uploading
it again.

A bounded LRU: the oldest entry goes when a new one arrives at capacity, and a restart forgets
everything (the commentary is a nicety, never the record). The photo and heatmap are kept only
when an LLM is configured, as 512-px JPEGs (~30–60 KB each), ready to send.

With several worker processes (``tunelens serve --workers N``) the page's follow-up request
usually reaches another worker than the one that answered, so each entry is also written to a
folder the workers share (``TUNELENS_PREDICTION_CACHE_DIR``; ``serve --workers`` makes a
private one); a worker that does not hold an id in memory reads it from there. The folder is
pruned to a few times the capacity, oldest first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from tunelens.core.atomic import write_atomic
from tunelens.core.types import Reading, Recommendation
from tunelens.explain.llm import Commentary, data_url_bytes, image_data_url

log = logging.getLogger("tunelens.web.predictions")  # the name operators filter on

#: what ``remember`` hands out; anything else never becomes a file name
_PREDICTION_ID = re.compile(r"^[0-9a-f]{32}$")
#: files kept in the shared folder, as a multiple of the in-memory capacity
SHARED_FACTOR = 4
#: prune the shared folder after this many writes
PRUNE_EVERY = 32


@dataclass
class RecentPrediction:
    reading: Reading
    text: str
    lang: str
    regions: list[str] = field(default_factory=list)
    photo_url: str | None = None
    heatmap_url: str | None = None
    commentary: Commentary | None = None
    #: the answer without its heatmap, each song with its part values, so it can be worded
    #: again in another language (:meth:`tunelens.pipeline.Pipeline.reword`)
    answer: Recommendation | None = None
    #: the verified listener the answer was made for (None: anonymous, anyone with the id)
    client_id: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def visible_to(self, client_id: str | None) -> bool:
        """Only the listener an answer was made for may read it again; anonymous answers are
        guarded by their unguessable id alone."""
        return self.client_id is None or self.client_id == client_id


def _images(rec: Recommendation) -> tuple[str | None, str | None]:
    image = rec._image
    photo = image_data_url(image.pixels) if image is not None else None
    heatmap = None
    if rec.explanation is not None and rec.explanation.heatmap:
        heatmap = image_data_url(data_url_bytes(rec.explanation.heatmap))
    return photo, heatmap


def _without_heatmap(rec: Recommendation) -> Recommendation:
    """``rec`` as kept for rewording: the overlay is the page's (tens of KB), not needed."""
    if rec.explanation is None or rec.explanation.heatmap is None:
        return rec
    return rec.model_copy(
        update={"explanation": rec.explanation.model_copy(update={"heatmap": None})}
    )


def _answer_record(answer: Recommendation | None) -> dict[str, Any]:
    if answer is None:
        return {}
    return {
        "answer": answer.model_dump(mode="json"),
        "part_values": [track._part_values for track in answer.tracks],
    }


def _answer_from(record: dict[str, Any]) -> Recommendation | None:
    if "answer" not in record:
        return None
    answer = Recommendation.model_validate(record["answer"])
    for track, values in zip(answer.tracks, record.get("part_values", []), strict=False):
        track._part_values = {str(k): float(v) for k, v in values.items()}
    return answer


class PredictionCache:
    """``prediction_id`` → :class:`RecentPrediction`, least recently used first out."""

    def __init__(
        self, capacity: int = 128, *, keep_images: bool = False, directory: Path | None = None
    ) -> None:
        self.capacity = max(1, capacity)
        self.keep_images = keep_images
        self.directory = directory
        self._items: OrderedDict[str, RecentPrediction] = OrderedDict()
        self._lock = threading.Lock()
        self._writes = 0

    def __len__(self) -> int:
        return len(self._items)

    async def remember(self, rec: Recommendation, lang: str, client_id: str | None = None) -> str:
        """Store one answer (made for ``client_id``) and return its new ``prediction_id``."""
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
            answer=_without_heatmap(rec),
            client_id=client_id,
        )
        prediction_id = uuid.uuid4().hex
        self._keep(prediction_id, entry)
        if self.directory is not None:
            await anyio.to_thread.run_sync(self._share, prediction_id, entry)
        return prediction_id

    def _keep(self, prediction_id: str, entry: RecentPrediction) -> None:
        with self._lock:
            self._items[prediction_id] = entry
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, prediction_id: str) -> RecentPrediction | None:
        with self._lock:
            entry = self._items.get(prediction_id)
            if entry is not None:
                self._items.move_to_end(prediction_id)
                return entry
        if self.directory is None or not _PREDICTION_ID.match(prediction_id):
            return None
        entry = self._read_shared(prediction_id)
        if entry is not None:
            self._keep(prediction_id, entry)
        return entry

    def _share(self, prediction_id: str, entry: RecentPrediction) -> None:
        """Write one entry for the other workers (atomically: a reader never sees half)."""
        assert self.directory is not None
        record: dict[str, Any] = {
            "reading": entry.reading.model_dump(mode="json"),
            "text": entry.text,
            "lang": entry.lang,
            "regions": entry.regions,
            "photo_url": entry.photo_url,
            "heatmap_url": entry.heatmap_url,
            "client_id": entry.client_id,
            **_answer_record(entry.answer),
        }
        try:
            # not fsynced: a lost entry costs one follow-up, an fsync costs every request
            write_atomic(
                self.directory / f"{prediction_id}.json",
                json.dumps(record).encode(),
                durable=False,
            )
        except OSError as exc:  # a full disk costs the other workers' follow-ups, nothing more
            log.warning("cannot share prediction %s: %s", prediction_id, exc)
            return
        with self._lock:
            self._writes += 1
            prune = self._writes % PRUNE_EVERY == 0
        if prune:
            self._prune()

    def _read_shared(self, prediction_id: str) -> RecentPrediction | None:
        assert self.directory is not None
        try:
            record = json.loads(
                (self.directory / f"{prediction_id}.json").read_text(encoding="utf-8")
            )
            return RecentPrediction(
                reading=Reading.model_validate(record["reading"]),
                text=str(record["text"]),
                lang=str(record["lang"]),
                regions=[str(r) for r in record.get("regions", [])],
                photo_url=record.get("photo_url"),
                heatmap_url=record.get("heatmap_url"),
                answer=_answer_from(record),
                client_id=record.get("client_id"),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable shared prediction %s: %s", prediction_id, exc)
            return None

    def _prune(self) -> None:
        assert self.directory is not None
        keep = self.capacity * SHARED_FACTOR
        try:
            files = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return  # another worker pruned a file between glob and stat; next round
        for old in files[: max(0, len(files) - keep)]:
            old.unlink(missing_ok=True)
