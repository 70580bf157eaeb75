"""A refused upload is read to its end before the 413, so clients that send the whole body
before reading (urllib, requests, browsers) get the JSON that says why, not a reset.

Against a real ``tunelens serve`` (uvicorn's own connection handling is what is tested)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

import anyio
import pytest

from tests.security.conftest import ServerProcess
from tunelens.core.settings import Settings
from tunelens.web.middleware.body_limit import BodyLimitMiddleware, BodyRule, UploadLimits
from tunelens.web.settings import WebSettings

MB = 1024 * 1024


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + bytes(size) + f"\r\n--{boundary}--\r\n".encode(), boundary


def _post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, object]]:
    """urllib, as a script would: no ``Expect: 100-continue``, the body sent before reading."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_a_60_mb_upload_through_urllib_reads_the_413_json(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory().start()
    body, boundary = _multipart(60 * MB)
    status, answer = _post(
        f"{server.base}/api/v1/recommend", body, f"multipart/form-data; boundary={boundary}"
    )
    assert status == 413
    assert answer["error"]["code"] == "too_large"  # type: ignore[index]
    assert answer["error"]["details"]["actual"] == len(body)  # type: ignore[index]
    # a refused content type is drained the same way (415), and the server is fine afterwards
    status, answer = _post(f"{server.base}/api/v1/recommend", bytes(5 * MB), "text/csv")
    assert status == 415 and answer["error"]["code"] == "unsupported_media_type"  # type: ignore[index]
    with urllib.request.urlopen(f"{server.base}/health", timeout=10) as health:
        assert health.status == 200


@pytest.mark.parametrize(
    ("drain_mb", "expect", "read_mb"),
    [(128, None, 10), (3, None, 4), (128, "100-continue", 0)],
)
def test_the_drain_is_bounded_and_skipped_for_expect_continue(
    drain_mb: int, expect: str | None, read_mb: int
) -> None:
    """10 MB arrive in 1 MB messages: all are read under a 128 MB bound, only 4 under a 3 MB
    bound (the server then answers and closes), none when the client waits for 100-continue."""
    limits = UploadLimits(
        Settings(_env_file=None), WebSettings(_env_file=None, drain_max_bytes=drain_mb * MB)
    )
    read = 0

    async def receive() -> dict[str, object]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": bytes(MB), "more_body": read < 10}

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        raise AssertionError("a refused body never reaches the app")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    headers = [(b"content-type", b"multipart/form-data; boundary=x")]
    headers.append((b"content-length", str(10 * MB + 10**8).encode()))  # over the route's limit
    if expect:
        headers.append((b"expect", expect.encode()))
    if drain_mb < 100:  # a declared size within the bound, so the bound itself is what stops it
        headers[1] = (b"content-length", str(2 * MB).encode())
        limits.rules = {path: BodyRule(MB, multipart=True) for path in limits.rules}
    scope = {"type": "http", "method": "POST", "path": "/api/v1/recommend", "headers": headers}
    anyio.run(BodyLimitMiddleware(app, limits), scope, receive, send)  # type: ignore[arg-type]
    assert read == read_mb
    assert sent[0]["status"] == 413
