"""The page's explanations in headless Chromium: photo/heatmap toggle, explanation text,
commentary filled in after the songs, regional playlists and playlist downloads."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import PHOTOS_DIR, require_shared
from tests.e2e.conftest import LiveServer, PageContext, open_context
from tests.fake_llm import DEFAULT_TEXT, FakeLlm, fake_llm_server
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

pytestmark = pytest.mark.browser

PHOTO = "kite_blue_sky_clouds_01.jpg"
#: read by colour alone, this photo's reading comes from one region more than the rest
SHADOWS_PHOTO = "mountains_dark_clouds_01.jpg"
#: how the explanation opens, as sure as the reading is (explain.certainty)
MOOD_OPENINGS = (
    "tunelens reads this picture as",
    "The mood leans towards",
    "The mood is hard to tell",
)
SONGS = "#song-list > li.song"


@pytest.fixture(scope="module")
def photo() -> Path:
    return require_shared(PHOTOS_DIR / PHOTO)


def wait_until(page: Any, expression: str) -> None:
    page.wait_for_function(f"() => ({expression})")


def analyze(ctx: PageContext, photo: Path, *, heatmap: bool = True) -> None:
    page = ctx.page
    page.goto(ctx.base_url + "/")
    page.set_input_files("#file-input", str(photo))
    page.wait_for_selector("#preview:not([hidden])")
    if not heatmap:
        page.uncheck("#heatmap-input")
    page.click("#analyze-btn")
    wait_until(
        page,
        "document.querySelectorAll('#song-list > li.song').length === 10"
        " && document.getElementById('analyze-btn').getAttribute('aria-busy') === 'false'",
    )


def test_heatmap_toggle_and_explanation(desktop: PageContext) -> None:
    page = desktop.page
    analyze(desktop, require_shared(PHOTOS_DIR / SHADOWS_PHOTO))
    assert page.is_checked("#heatmap-input")  # on by default
    # the explanation names the mood and where it comes from
    text = page.inner_text("#explanation-text")
    assert text.startswith(MOOD_OPENINGS)
    # the first listed region is the one the explanation names
    regions = page.inner_text("#hot-regions")
    assert regions.startswith("Mattered most: ")
    place, content = regions.removeprefix("Mattered most: ").split("; ")[0].split(": ", 1)
    assert f"{place} ({content})" in text
    # the heatmap shows first; the toggle switches to the photo and back
    toggle = page.locator("#view-toggle")
    assert toggle.is_visible()
    assert page.get_attribute("#view-heatmap", "aria-pressed") == "true"
    src = page.get_attribute("#result-img", "src") or ""
    assert src.startswith("data:image/png;base64,")
    assert f"{place}: {content}" in (page.get_attribute("#result-img", "alt") or "")
    page.locator("#explain-heading").scroll_into_view_if_needed()
    desktop.screenshot("explain-heatmap", full_page=False)
    page.click("#view-photo")
    assert page.get_attribute("#view-photo", "aria-pressed") == "true"
    assert page.get_attribute("#view-heatmap", "aria-pressed") == "false"
    assert (page.get_attribute("#result-img", "src") or "").startswith("blob:")
    assert page.get_attribute("#result-img", "alt") == "Your photo"
    page.click("#view-heatmap")
    assert (page.get_attribute("#result-img", "src") or "").startswith("data:image/png")
    # the heatmap image loaded (a real PNG, decoded by the browser)
    wait_until(page, "document.getElementById('result-img').naturalWidth > 0")
    assert desktop.outside_requests == []


def test_without_heatmap_the_toggle_is_hidden(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    analyze(desktop, photo, heatmap=False)
    assert page.is_hidden("#view-toggle")
    assert page.inner_text("#explanation-text").startswith(MOOD_OPENINGS)
    assert (page.get_attribute("#result-img", "src") or "").startswith("blob:")


# --- commentary from a (fake) LLM, filled in after the songs ----------------------------------


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLlm]:
    with fake_llm_server() as server:
        yield server


@pytest.fixture(scope="module")
def llm_server(e2e_engine: Pipeline, fake_llm: FakeLlm) -> Iterator[LiveServer]:
    settings = e2e_engine.settings.model_copy(
        update={"llm_base_url": fake_llm.base_url, "llm_model": "tiny-vision"}
    )
    app = create_app(settings, engine=e2e_engine, web_settings=WebSettings(_env_file=None))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="tunelens-llm-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live tunelens server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(timeout=10)


def test_commentary_fills_in_after_the_songs(
    browser: Any, llm_server: LiveServer, fake_llm: FakeLlm, photo: Path
) -> None:
    fake_llm.script[:] = [("sleep", 1.2)]  # a slow model: the songs must not wait for it
    context, ctx = open_context(browser, llm_server, viewport={"width": 1280, "height": 900})
    try:
        page = ctx.page
        analyze(ctx, photo, heatmap=False)
        # songs are on screen while the commentary is still being written
        assert page.is_visible("#commentary-block")
        assert page.get_attribute("#commentary", "aria-busy") == "true"
        assert page.inner_text("#commentary") == "Asking the commentator…"
        wait_until(
            page, "document.getElementById('commentary').getAttribute('aria-busy') === 'false'"
        )
        assert page.inner_text("#commentary") == DEFAULT_TEXT
        assert page.is_hidden("#commentary-notice")
        # a failing model: one short line, not the explanation above it once more, and not
        # the operator's reason (the log has that)
        fake_llm.script[:] = [("status", 500), ("status", 500)]
        analyze(ctx, photo, heatmap=False)
        wait_until(page, "!document.getElementById('commentary-notice').hidden")
        block = page.inner_text("#commentary-block")
        assert page.inner_text("#explanation-text") not in block
        assert page.is_hidden("#commentary")
        assert "unavailable right now" in page.inner_text("#commentary-notice")
        assert "HTTP" not in block
        assert ctx.outside_requests == []
    finally:
        context.close()


# --- regional playlists -------------------------------------------------------------------------

YOUTUBE_STUB = "<!doctype html><title>player stub</title><p>YouTube player (stubbed)</p>"


def test_playlists_follow_the_chosen_region(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    frames: list[str] = []

    def youtube(route: Any) -> None:
        frames.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=YOUTUBE_STUB)

    page.route("https://www.youtube-nocookie.com/**", youtube)
    analyze(desktop, photo, heatmap=False)
    wait_until(page, "document.querySelectorAll('#playlist-groups .playlist').length > 0")
    assert page.input_value("#region-select") == "global"
    groups = page.eval_on_selector_all(
        "#playlist-groups .playlist-group", "els => els.map(e => [e.dataset.kind, e.dataset.name])"
    )
    kinds = [kind for kind, _ in groups]
    assert kinds == ["genre", "mood"]
    mood = groups[1][1]
    assert mood in ("happy", "energetic", "calm", "sad", "intense")
    assert f"Mood: {mood}" in (page.text_content("#playlist-groups") or "")
    assert page.locator("#playlist-groups iframe").count() == 0  # nothing loads before a click
    # switch to Khaleeji: the region's own playlists replace the list
    page.select_option("#region-select", "khaleeji")
    wait_until(
        page,
        "[...document.querySelectorAll('#playlist-groups .playlist-title')]"
        ".some(e => e.textContent.includes('Khaleeji'))",
    )
    titles = page.eval_on_selector_all(
        "#playlist-groups .playlist-title", "els => els.map(e => e.textContent)"
    )
    assert all("Khaleeji" in t for t in titles), titles
    genre_group = page.locator("#playlist-groups .playlist-group[data-kind='genre']")
    entry = genre_group.locator(".playlist[data-kind='playlist']").first
    entry.locator("button.playlist-play").click()
    frame = entry.locator(".player iframe")
    frame.wait_for()
    src = frame.get_attribute("src") or ""
    assert src.startswith("https://www.youtube-nocookie.com/embed/videoseries?list=")
    assert frame.get_attribute("loading") == "lazy"
    wait_until(page, "document.querySelector('#playlist-groups iframe') !== null")
    page.wait_for_timeout(200)
    assert frames and frames[0].startswith("https://www.youtube-nocookie.com/embed/")
    # mood entries are searches: links, never frames
    search = page.locator("#playlist-groups .playlist-group[data-kind='mood'] .playlist a").first
    assert (search.get_attribute("href") or "").startswith("https://www.youtube.com/results?")
    page.locator("#playlists-heading").scroll_into_view_if_needed()
    desktop.screenshot("playlists-khaleeji", full_page=False)
    # the choice is remembered
    page.reload()
    assert page.input_value("#region-select") == "khaleeji"
    assert desktop.outside_requests == []


# --- playlist download ------------------------------------------------------------------------


def test_download_buttons_save_the_songs_on_screen(desktop: PageContext, photo: Path) -> None:
    from tests.playlists.helpers import parse_m3u8

    page = desktop.page
    analyze(desktop, photo, heatmap=False)
    ids = page.eval_on_selector_all(SONGS, "els => els.map(e => e.dataset.trackId)")
    with page.expect_download() as info:
        page.click("#export-m3u8")
    download = info.value
    assert download.suggested_filename == "tunelens-playlist.m3u8"
    title, entries = parse_m3u8(Path(download.path()).read_text(encoding="utf-8"))
    assert title == f"tunelens — {PHOTO}"
    assert [url.rsplit("/", 1)[1] for _, _, url in entries] == ids
    with page.expect_download() as info:
        page.click("#export-jspf")
    document = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert len(document["playlist"]["track"]) == 10
    assert page.inner_text("#export-error") == ""
