"""Per-client rate limits: an in-memory token bucket per client address.

Back-pressure (:mod:`tunelens.web.middleware.backpressure`) protects the server as a whole; this protects
everyone else from one client. Each client address (``request.client.host``: the peer, or the
real client when uvicorn is told to trust a proxy's forwarded headers) gets a bucket of
``rate_limit_burst`` tokens that refills at ``rate_limit_per_minute``. Every *costly* request —
any POST, and anything under ``/api/`` — takes one token; with none left the answer is
**429 ``rate_limited``** with ``Retry-After`` (seconds until the next token). The page, static
files, ``/health``, ``/stats`` and the docs never count, so a monitor or a browser loading the
page cannot use a listener's allowance up.

The buckets live in one process's memory (behind several processes each has its own, so the
effective limit is per process); at most ``rate_limit_clients`` addresses are tracked, the least
recently seen dropped first, so a flood of spoofed addresses cannot grow memory without bound.
The limiter runs before the body is read, so a refused upload costs no parsing.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from tunelens.web.errors import ErrorAnswer

#: paths that never count against a client's allowance (exact, or a prefix ending in "/")
EXEMPT_PATHS: tuple[str, ...] = (
    "/",
    "/health",
    "/ready",
    "/metrics",
    "/stats",
    "/emotions",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/favicon.ico",
    "/static/",
)


def is_costly(method: str, path: str) -> bool:
    """Whether a request takes a token: every POST and every ``/api/`` call, minus exemptions."""
    if any(
        path == p or (p.endswith("/") and p != "/" and path.startswith(p)) for p in EXEMPT_PATHS
    ):
        return False
    return method == "POST" or path.startswith("/api/")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``burst`` tokens per key, refilled at ``per_minute / 60`` tokens a second."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            msg = f"per_minute must be > 0, got {per_minute}"
            raise ValueError(msg)
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=self.burst, updated=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    """Answers 429 ``rate_limited`` (with ``Retry-After``) once a client's bucket is empty."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_costly(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "unknown"
        wait = self.buckets.take(key)
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        per_minute = round(self.buckets.rate * 60)
        answer = ErrorAnswer(
            429,
            "rate_limited",
            f"Too many requests from your address (the limit is {per_minute} a minute, "
            f"{int(self.buckets.burst)} at once); try again in {retry_after} "
            f"second{'s' if retry_after != 1 else ''}.",
            {"limit_per_minute": per_minute, "retry_after_s": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
        response = answer.response(scope["path"])
        await response(scope, receive, send)
