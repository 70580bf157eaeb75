"""A live tunelens server on 127.0.0.1 (uvicorn in a thread) and Debian's Chromium via Playwright.

The browser never reaches the internet: every request that is not for the live server is
aborted, except the Spotify embed, which is answered with a stub page so the iframe loads.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn

from tests.conftest import REPO_ROOT
from tests.web.conftest import load_colour_engine
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
SPOTIFY_STUB = "<!doctype html><title>player stub</title><p>Spotify player (stubbed in tests)</p>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


@pytest.fixture(scope="session")
def e2e_engine(spotify_catalog: Path) -> Pipeline:
    return load_colour_engine(spotify_catalog)


@pytest.fixture(scope="session")
def live_server(e2e_engine: Pipeline) -> Iterator[LiveServer]:
    app = create_app(engine=e2e_engine, web_settings=WebSettings(_env_file=None))
    yield from serve(app)


def serve(app: Any) -> Iterator[LiveServer]:
    """Run ``app`` on a free loopback port until the generator is closed."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tunelens-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live tunelens server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # module scope, not session: Playwright's sync API keeps an asyncio loop running in this
    # thread while it is open, which would break later tests that call asyncio.run/anyio.run
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")
    sync_playwright = sync_api.sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageContext:
    """A page plus the URLs of every request it tried to make outside the live server."""

    page: Any
    base_url: str
    outside_requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def open_context(browser: Any, live_server: LiveServer, **options: Any) -> tuple[Any, PageContext]:
    context = browser.new_context(**options)
    own_host = urlparse(live_server.base_url).netloc
    holder = PageContext(page=None, base_url=live_server.base_url)

    def route(route: Any) -> None:
        url = route.request.url
        parsed = urlparse(url)
        if parsed.netloc == own_host or parsed.scheme in ("data", "blob"):
            route.continue_()
            return
        holder.outside_requests.append(url)
        if parsed.netloc == "open.spotify.com":
            route.fulfill(status=200, content_type="text/html", body=SPOTIFY_STUB)
        else:
            route.abort()

    context.route("**/*", route)
    holder.page = context.new_page()
    holder.page.set_default_timeout(15_000)
    return context, holder


@pytest.fixture
def desktop(browser: Any, live_server: LiveServer) -> Iterator[PageContext]:
    context, holder = open_context(
        browser, live_server, viewport={"width": 1280, "height": 900}, color_scheme="dark"
    )
    yield holder
    context.close()


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[PageContext]:
    context, holder = open_context(
        browser,
        live_server,
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield holder
    context.close()


def copy_to_docs(screenshot: Path, name: str, max_height: int = 1800) -> None:
    """Refresh a README screenshot (only when asked: TUNELENS_UPDATE_SCREENSHOTS=1): the top
    of the page, cut at ``max_height`` pixels so it stays readable in a README."""
    from PIL import Image

    target = REPO_ROOT / "docs" / "screenshots" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(screenshot) as image:
        top = image.crop((0, 0, image.width, min(image.height, max_height)))
        top.save(target, optimize=True)
