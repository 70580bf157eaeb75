"""Property-based fuzzing (hypothesis) of the multipart and JSON endpoints.

Whatever bytes arrive — random form fields, file names and declared types, truncated or
bit-flipped pictures, arbitrary JSON of any shape — the answer is never a 5xx: either a
success or a 4xx in the one error shape with a code the documentation lists. Runs are bounded
(``max_examples``) and deterministic (``derandomize=True``), so CI sees the same cases every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import assert_documented_error
from tests.unit.bad_images import BAD_IMAGE_CASES, sample_jpeg, sample_png
from tests.web.conftest import multipart_body, offline_settings
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

MULTIPART_EXAMPLES = 150
JSON_EXAMPLES = 150
FUZZ = settings(
    max_examples=MULTIPART_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
UPLOAD_ROUTES = ("/recommend", "/api/v1/recommend", "/api/v1/recommend/batch")
FIELDS = ["image", "images", "top_k", "context", "lang", "exclude", "heatmap", "consent"]
FIELDS += ["client_id"]
TYPES = ["image/jpeg", "image/png", "application/octet-stream", "text/plain", "text/html"]
TYPES += ["image/svg+xml", "multipart/mixed", "application/json", "", "image/*; q=1"]
SMALL_BAD = [c.data() for c in BAD_IMAGE_CASES if c.code not in ("too_large",)]
SMALL_BAD = [d for d in SMALL_BAD if len(d) < 300_000]


@pytest.fixture(scope="module")
def fuzz_client(engine: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("fuzz-home")
    app = create_app(
        offline_settings(home, catalog_dir=engine.settings.catalog_dir),
        engine=engine,
        web_settings=WebSettings(_env_file=None, rate_limit_per_minute=0),
    )
    with TestClient(app) as client:
        yield client


@st.composite
def picture_bytes(draw: st.DrawFn) -> bytes:
    """A real picture, a corpus file, a cut or bit-flipped picture, or random bytes."""
    kind = draw(st.sampled_from(["good", "corpus", "cut", "flip", "random"]))
    if kind == "good":
        return draw(st.sampled_from([sample_jpeg(), sample_png()]))
    if kind == "corpus":
        return draw(st.sampled_from(SMALL_BAD))
    base = draw(st.sampled_from([sample_jpeg(), sample_png()]))
    if kind == "cut":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "flip":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        return bytes(data)
    return draw(st.binary(max_size=2048))


field_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["5", "0", "-1", "51", "1e3", "true", "false", "en", "zz-ZZ", "a,b,c"]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=400, max_size=700),
)
filenames = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["../../etc/passwd", "..\\x.jpg", "a.jpg\x00.php", "фото.jpg", ""]),
)


@st.composite
def form_parts(draw: st.DrawFn) -> list[tuple[str, str | None, bytes, str | None]]:
    parts: list[tuple[str, str | None, bytes, str | None]] = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)))
        if draw(st.booleans()):
            filename = draw(filenames) or "photo.jpg"
            data = draw(picture_bytes())
            content_type = draw(st.one_of(st.none(), st.sampled_from(TYPES)))
            parts.append((name, filename, data, content_type))
        else:
            parts.append((name, None, draw(field_values).encode(), None))
    return parts


def _safe_header_text(parts: list[tuple[str, str | None, bytes, str | None]]) -> bool:
    """httpx refuses header bytes it cannot send; such a body is not a request at all."""
    return all('"' not in p[0] and "\r" not in p[0] and "\n" not in p[0] for p in parts)


def _check(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:400])
    if response.status_code >= 400:
        assert_documented_error(response)
    else:
        json.loads(response.text)


@FUZZ
@given(route=st.sampled_from(UPLOAD_ROUTES), parts=form_parts())
def test_multipart_fuzz_never_5xx(
    fuzz_client: TestClient, route: str, parts: list[tuple[str, str | None, bytes, str | None]]
) -> None:
    if not _safe_header_text(parts):
        return
    body, header = multipart_body(parts)
    _check(fuzz_client.post(route, content=body, headers={"content-type": header}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
JSON_KEYS = ["track_id", "track_ids", "kind", "prediction_id", "comment", "client_id"]
JSON_KEYS += ["exclude", "top_k", "reading", "target", "title"]


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """Objects with the routes' own keys holding any JSON, any JSON at all, or not JSON."""
    kind = draw(st.sampled_from(["keys", "any", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=300))
    if kind == "any":
        return json.dumps(draw(json_values)).encode()
    keys = draw(st.lists(st.sampled_from(JSON_KEYS), max_size=6, unique=True))
    obj = {}
    for key in keys:
        obj[key] = draw(
            st.one_of(
                json_values,
                st.sampled_from(["like", "dislike", "played", "6f807x0ima9a1j3VPbc7VN"]),
            )
        )
    return json.dumps(obj).encode()


JSON_ROUTES = (
    "/api/v1/similar",
    "/api/v1/feedback",
    "/api/v1/export?format=m3u8",
    "/api/v1/export?format=jspf",
    "/api/v1/export?format=exe",
)


@settings(FUZZ, max_examples=JSON_EXAMPLES)
@given(route=st.sampled_from(JSON_ROUTES), body=json_bodies())
def test_json_fuzz_never_5xx(fuzz_client: TestClient, route: str, body: bytes) -> None:
    _check(fuzz_client.post(route, content=body, headers={"content-type": "application/json"}))
