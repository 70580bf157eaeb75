"""The data loop in headless Chromium: like / dislike / not-for-me buttons change the next
results, Play records "played", the consent box starts unticked and keeps the photo when
ticked; the admin page needs the token and then shows server-drawn charts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import PHOTOS_DIR, require_shared
from tests.e2e.conftest import LiveServer, PageContext, _free_port, open_context
from tests.e2e.test_page import SONGS, analyze, song_ids, wait_until
from tests.web.conftest import offline_settings
from tunelens.pipeline import Pipeline
from tunelens.storage import repository as repo
from tunelens.web.app import create_app
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.settings import WebSettings

pytestmark = pytest.mark.browser

PHOTO = "sunset_lake_rowboats_01.jpg"
TOKEN = "browser-admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def photo() -> Path:
    return require_shared(PHOTOS_DIR / PHOTO)


@pytest.fixture(scope="module")
def loop_server(
    e2e_engine: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A live server with its own database and an admin token."""
    settings = offline_settings(
        tmp_path_factory.mktemp("e2e-loop"),
        catalog_dir=e2e_engine.settings.catalog_dir,
        admin_token=TOKEN,
    )
    app = create_app(settings, engine=e2e_engine, web_settings=WebSettings(_env_file=None))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="tunelens-loop-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live tunelens server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page_ctx(browser: Any, loop_server: LiveServer) -> Iterator[PageContext]:
    context, holder = open_context(browser, loop_server, viewport={"width": 1280, "height": 900})
    yield holder
    context.close()


def data_loop(server: LiveServer) -> DataLoop:
    loop = server.server.config.app.state.data_loop
    assert isinstance(loop, DataLoop)
    return loop


def test_feedback_buttons_change_the_next_results(
    page_ctx: PageContext, loop_server: LiveServer, photo: Path
) -> None:
    page = page_ctx.page
    page.goto(page_ctx.base_url + "/")
    assert not page.is_checked("#consent-input")  # unticked by default
    assert "location and camera" in page.inner_text("#consent-hint")
    analyze(page_ctx, photo)
    first = song_ids(page)
    songs = page.locator(SONGS)
    songs.nth(0).locator('button[data-kind="dislike"]').click()
    songs.nth(1).locator('button[data-kind="not_interested"]').click()
    songs.nth(2).locator('button[data-kind="like"]').click()
    wait_until(
        page,
        "document.querySelectorAll('#song-list .song.dismissed').length === 2"
        " && document.querySelectorAll('#song-list [data-kind=like][aria-pressed=true]').length",
    )
    assert "leaves your next results" in songs.nth(0).locator(".feedback-status").inner_text()
    # Play records "played" (the Spotify embed is stubbed)
    songs.nth(3).locator(".play").click()
    page.wait_for_selector(f"{SONGS} iframe")

    page.uncheck("#heatmap-input")
    page.click("#analyze-btn")
    wait_until(
        page,
        f"document.querySelectorAll('{SONGS}').length === 10"
        " && !document.querySelector('#song-list .song.dismissed')"
        " && document.getElementById('analyze-btn').getAttribute('aria-busy') === 'false'",
    )
    again = song_ids(page)
    assert first[0] not in again and first[1] not in again
    assert first[2] in again  # a liked song stays
    page_ctx.screenshot("feedback-after")

    db = data_loop(loop_server).db
    assert db is not None
    deadline = time.monotonic() + 5  # "played" is fire-and-forget: give it a moment
    while repo.feedback_counts(db)["feedback"]["played"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    counts = repo.feedback_counts(db)["feedback"]
    assert counts["played"] == 1 and counts["dislike"] == 1 and counts["like"] == 1
    assert all(url.startswith("https://open.spotify.com/") for url in page_ctx.outside_requests)


def test_consent_keeps_the_photo(
    page_ctx: PageContext, loop_server: LiveServer, photo: Path
) -> None:
    page = page_ctx.page
    page.goto(page_ctx.base_url + "/")
    page.check("#consent-input")
    page.uncheck("#heatmap-input")
    page.set_input_files("#file-input", str(photo))
    page.click("#analyze-btn")
    page.wait_for_selector("#upload-status:not([hidden])")
    assert "was kept" in page.inner_text("#upload-status")
    uploads = data_loop(loop_server).settings.data_dir / "uploads"
    assert any(p.is_file() for p in uploads.rglob("*"))


def test_admin_page_needs_the_token_and_shows_charts(page_ctx: PageContext, photo: Path) -> None:
    page = page_ctx.page
    response = page.goto(page_ctx.base_url + "/admin")
    assert response is not None and response.status == 401
    assert page.locator("svg.chart").count() == 0
    page.fill("#admin-token", "not-the-token")
    page.click("#admin-login")
    assert "wrong" in page.inner_text("#admin-error")
    page.fill("#admin-token", TOKEN)
    page.click("#admin-login")
    page.wait_for_selector("#admin-heading")
    assert page.url == page_ctx.base_url + "/admin"  # signed in: the address left /admin/login
    assert page.locator("svg.chart").count() >= 8
    assert page.locator("#chart-emotions_over_time svg rect").count() >= 1
    assert page.locator("#chart-like_rate_emotion svg rect").count() >= 1
    assert int(page.inner_text("#fig-predictions").replace(",", "")) >= 1
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["tunelens_admin"]["httpOnly"] and TOKEN not in cookies["tunelens_admin"]["value"]
    page_ctx.screenshot("admin-dashboard")
    page.click("#admin-logout")
    page.wait_for_selector("#admin-login-form")
