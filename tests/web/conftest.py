"""Fixtures for the web tests: one engine per session (colour encoder, shared Spotify catalogue)
and apps built around it with ``create_app`` — loading the catalogue is the slow part."""

from __future__ import annotations

import functools
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core.settings import Settings
from tunelens.pipeline import Pipeline, build_pipeline
from tunelens.web.app import create_app
from tunelens.web.errors import is_dylumo_path
from tunelens.web.settings import WebSettings

PHOTO_NAME = "kite_blue_sky_clouds_01.jpg"
#: TestClient's default peer ("testclient") is not an address, so never a trusted proxy
LOOPBACK_PEER = ("127.0.0.1", 50000)
#: what deploy/systemd sets for nginx on the same machine (the setting's default trusts nobody)
NGINX_ON_LOOPBACK = "127.0.0.1,::1"


def offline_settings(home: Path, **overrides: Any) -> Settings:
    """Settings that ignore the developer's environment and never reach the network."""
    values: dict[str, Any] = {
        "data_dir": home / "data",
        "cache_dir": home / "cache",
        "allow_download": False,
        "encoder": "colour",
        "model_dir": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@functools.cache
def load_colour_engine(catalog_dir: Path) -> Pipeline:
    """One colour-encoder engine per catalogue per test process (web and e2e tests share it)."""
    settings = offline_settings(catalog_dir.parent / "web-home", catalog_dir=catalog_dir)
    return build_pipeline(settings, encoder="colour", catalog_dir=catalog_dir)


@pytest.fixture(scope="session")
def engine(spotify_catalog: Path) -> Pipeline:
    return load_colour_engine(spotify_catalog)


@pytest.fixture(scope="session")
def photo_path() -> Path:
    return require_shared(PHOTOS_DIR / PHOTO_NAME)


@pytest.fixture(scope="session")
def photo_bytes(photo_path: Path) -> bytes:
    return photo_path.read_bytes()


#: a photo whose reading, by colour alone, comes from one region more than the rest; the
#: kite's even blue sky moves the reading alike wherever a patch hides it
SHADOWS_PHOTO = "mountains_dark_clouds_01.jpg"


@pytest.fixture(scope="session")
def shadows_photo_bytes() -> bytes:
    return require_shared(PHOTOS_DIR / SHADOWS_PHOTO).read_bytes()


@pytest.fixture(scope="module")
def client(engine: Pipeline) -> Iterator[TestClient]:
    # the peer is loopback, like nginx on the same machine, trusted as the shipped systemd unit
    # configures it (the default trusts nobody); rate limits off: modules send hundreds of
    # requests from one peer in seconds (the limits are tested in tests/security/test_limits.py)
    web = WebSettings(_env_file=None, rate_limit_per_minute=0, trusted_proxies=NGINX_ON_LOOPBACK)
    app = create_app(engine=engine, web_settings=web)
    with TestClient(app, client=LOOPBACK_PEER) as c:
        yield c


def multipart_body(
    parts: list[tuple[str, str | None, bytes, str | None]],
) -> tuple[bytes, str]:
    """A hand-built multipart body: (field, filename or None, data, content type or None).

    httpx always labels file parts with a type; this can leave the header out entirely.
    """
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for field, filename, data, content_type in parts:
        out.write(f"--{boundary}\r\n".encode())
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.write(f"Content-Disposition: {disposition}\r\n".encode())
        if content_type is not None:
            out.write(f"Content-Type: {content_type}\r\n".encode())
        out.write(b"\r\n")
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def assert_error_shape(response: Any, code: str | None = None) -> dict[str, Any]:
    """The one error shape, plus DyLuMo's keys outside /api/."""
    body: dict[str, Any] = response.json()
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    if not is_dylumo_path(response.request.url.path):
        assert "status" not in body and "message" not in body
    else:
        assert body["status"] == "error"
        assert body["message"] == body["error"]["message"]
    return body
