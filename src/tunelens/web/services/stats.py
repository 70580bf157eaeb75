"""In-process service statistics for ``/stats`` and ``/health``.

Counts live in memory and reset on restart (persistent analytics come with the storage
layer). Latencies are kept in a bounded window so p50/p95 describe recent traffic and memory
stays constant however long the server runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (``q`` in [0, 100]); 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class ServiceStats:
    """Thread-safe counters; recorded from the event loop and read by the stats routes."""

    def __init__(self, window: int = 1000) -> None:
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self.requests = 0
        self.by_status: Counter[int] = Counter()
        self.recommendations = 0
        self.images = 0
        self.emotions: Counter[str] = Counter()
        self._latencies: deque[float] = deque(maxlen=window)

    def record_request(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1

    def record_recommendation(self, emotions: list[str], latency_ms: float) -> None:
        """One recommend request: the top emotion of each of its pictures, and its latency."""
        with self._lock:
            self.recommendations += 1
            self.images += len(emotions)
            self.emotions.update(emotions)
            self._latencies.append(latency_ms)

    def uptime_s(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            latencies = sorted(self._latencies)
            return {
                "requests_served": self.requests,
                "responses_by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "recommendations_served": self.recommendations,
                "images_read": self.images,
                "emotion_distribution": dict(self.emotions.most_common()),
                "latency_ms": {
                    "p50": round(percentile(latencies, 50), 2),
                    "p95": round(percentile(latencies, 95), 2),
                    "window": len(latencies),
                },
                "uptime_s": self.uptime_s(),
            }
