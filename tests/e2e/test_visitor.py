"""The page as a visitor meets it, in headless Chromium at a laptop's and a phone's size, in
English and Arabic: no operator text in any state (the colour fallback, an engine that is not
ready, errors), the result or the error brought into view, ranks that follow scores, "more
like this" with a way back, a language switch that keeps the songs, the photo's whole
fingerprint with a working delete button, and the API docs without the internet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tests.e2e.conftest import LiveServer, PageContext, open_context, serve
from tests.e2e.test_page import PHOTO, SONGS, song_ids, wait_until
from tests.web.conftest import offline_settings
from tunelens.pipeline import build_pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings

pytestmark = pytest.mark.browser

#: what only an operator should read: server paths, errno, install commands, settings names
OPERATOR_TEXT = re.compile(
    r"(/(tmp|root|home|var|usr|etc|opt)/|errno|pip install|TUNELENS_|HF_HUB|tunelens (models|catalog)"
    r" |Traceback|\.py\b)",
    re.IGNORECASE,
)
ARABIC = re.compile(r"[\u0600-\u06FF]")
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}
DONE = (
    "document.getElementById('analyze-btn').getAttribute('aria-busy') === 'false'"
    " && (document.querySelectorAll('#song-list > li.song').length > 0"
    " || document.getElementById('error').textContent !== '')"
)


@pytest.fixture(scope="module")
def picture() -> Path:
    return require_shared(PHOTOS_DIR / PHOTO)


@pytest.fixture(scope="module")
def fallback_server(
    spotify_catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose ``auto`` encoder found no CLIP weights and fell back to colour (its
    operator notice names a cache folder and a command)."""
    home = tmp_path_factory.mktemp("fallback-home")
    settings = offline_settings(home, encoder="auto", catalog_dir=spotify_catalog)
    engine = build_pipeline(settings, catalog_dir=spotify_catalog)
    assert engine.info.fallback and engine.notices  # the operator's notice is there …
    yield from serve(create_app(engine=engine, web_settings=WebSettings(_env_file=None)))


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose engine could not load: its catalogue folder does not exist."""
    home = tmp_path_factory.mktemp("broken-home")
    missing = home / "no-such-catalog"
    settings = offline_settings(home, catalog_dir=missing)
    app = create_app(settings, catalog_dir=missing, web_settings=WebSettings(_env_file=None))
    yield from serve(app)


def _open(browser: Any, server: LiveServer, size: str) -> tuple[Any, PageContext]:
    width, height = SIZES[size]
    return open_context(browser, server, viewport={"width": width, "height": height})


def _in_view(page: Any, selector: str) -> bool:
    """The element's top is inside the viewport, and it holds the focus (or contains it)."""
    found: bool = page.evaluate(
        "s => { const e = document.querySelector(s); const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight && r.height > 0"
        " && (e === document.activeElement || e.contains(document.activeElement)); }",
        selector,
    )
    return found


def _visible_text(page: Any) -> str:
    text: str = page.evaluate("document.body.innerText")
    return text


def _analyze(page: Any, photo_path: Path | None) -> None:
    if photo_path is not None:
        page.set_input_files("#file-input", str(photo_path))
    page.click("#analyze-btn")
    wait_until(page, DONE)


@pytest.mark.parametrize(("size", "lang"), [("laptop", "en"), ("phone", "ar")])
def test_the_fallback_reads_as_one_translated_line_and_results_come_into_view(
    browser: Any, fallback_server: LiveServer, picture: Path, size: str, lang: str
) -> None:
    context, ctx = _open(browser, fallback_server, size)
    page = ctx.page
    try:
        page.goto(f"{ctx.base_url}/?lang={lang}")
        _analyze(page, None)  # no photo yet: the error is shown where the eye is
        assert page.inner_text("#error").strip()
        assert _in_view(page, "#error")
        _analyze(page, picture)
        assert page.locator(SONGS).count() == 10
        assert _in_view(page, "#reading-heading")
        notices = page.locator("#notices .notice")
        assert notices.count() == 1
        line = notices.inner_text()
        assert ("colour and light" in line) if lang == "en" else ARABIC.search(line)
        assert page.get_attribute("#notices .notice a", "href") == "/about#basic-mode"
        assert not OPERATOR_TEXT.search(_visible_text(page)), _visible_text(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
        ctx.screenshot(f"visitor-fallback-{size}-{lang}", full_page=False)
        page.click("#notices .notice a")
        page.wait_for_url("**/about#basic-mode")
        assert not OPERATOR_TEXT.search(_visible_text(page))
    finally:
        context.close()


@pytest.mark.parametrize(("size", "lang"), [("laptop", "ar"), ("phone", "en")])
def test_an_engine_that_is_not_ready_shows_no_operator_text(
    browser: Any, broken_server: LiveServer, picture: Path, size: str, lang: str
) -> None:
    context, ctx = _open(browser, broken_server, size)
    page = ctx.page
    try:
        page.goto(f"{ctx.base_url}/?lang={lang}")
        banner = page.inner_text("#server-banner")
        assert ARABIC.search(banner) if lang == "ar" else "can't recommend right now" in banner
        _analyze(page, picture)
        error = page.inner_text("#error")
        assert ARABIC.search(error) if lang == "ar" else "try again later" in error
        assert _in_view(page, "#error")
        assert not OPERATOR_TEXT.search(_visible_text(page)), _visible_text(page)
        # DyLuMo's page shows the `message` of its POST /recommend: no path there either
        answer = page.evaluate(
            "async () => { const f = new FormData(); f.append('image', new Blob(['x']), 'a.jpg');"
            " const r = await fetch('/recommend', {method: 'POST', body: f});"
            " return [r.status, await r.json()]; }"
        )
        assert answer[0] == 503 and answer[1]["status"] == "error"
        assert not OPERATOR_TEXT.search(answer[1]["message"])
        ctx.screenshot(f"visitor-not-ready-{size}-{lang}", full_page=False)
    finally:
        context.close()


def _scores(page: Any) -> list[float]:
    scores: list[float] = page.eval_on_selector_all(
        SONGS, "els => els.map(e => parseFloat(e.dataset.score))"
    )
    return scores


def test_ranks_follow_scores_and_more_like_this_has_a_way_back(
    browser: Any, live_server: LiveServer, picture: Path
) -> None:
    context, ctx = _open(browser, live_server, "laptop")
    page = ctx.page
    try:
        page.goto(ctx.base_url + "/")
        _analyze(page, picture)
        scores = _scores(page)
        assert len(scores) == 10 and scores == sorted(scores, reverse=True)
        shown = [
            float(t.split()[-1]) for t in page.locator(f"{SONGS} .song-score").all_inner_texts()
        ]
        assert shown == sorted(shown, reverse=True)  # the score a visitor reads, too
        first = song_ids(page)
        page.locator(SONGS).nth(2).locator(".more-like").click()
        wait_until(page, "!document.getElementById('songs-back').hidden")
        assert song_ids(page) != first and _in_view(page, "#songs-heading")
        similar = _scores(page)
        assert similar == sorted(similar, reverse=True)
        page.click("#songs-back")
        wait_until(page, "document.getElementById('songs-back').hidden")
        assert song_ids(page) == first
        assert page.inner_text("#songs-heading").strip() == "Songs for this photo"
        # "Show more" adds a batch of its own, ranked by its own scores under a divider
        page.click("#show-more")
        wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 20")
        assert page.locator("#song-list > li.batch-divider").count() == 1
        later = _scores(page)[10:]
        assert later == sorted(later, reverse=True)
        # numbered from 1 again, for the ear (the <li> ordinal) and the eye (the CSS counter)
        assert page.locator(f"{SONGS}.batch-start").evaluate("e => e.value") == 1
        divider = page.locator("#song-list > li.batch-divider")
        assert divider.evaluate("e => getComputedStyle(e).counterSet") == "song 0"
    finally:
        context.close()


def test_a_language_switch_keeps_the_photo_songs_and_opinions(
    browser: Any, live_server: LiveServer, picture: Path
) -> None:
    context, ctx = _open(browser, live_server, "phone")
    page = ctx.page
    try:
        page.goto(ctx.base_url + "/?lang=en")
        _analyze(page, picture)
        songs = page.locator(SONGS)
        songs.nth(0).locator(".feedback[data-kind=like]").click()
        songs.nth(1).locator(".feedback[data-kind=dislike]").click()
        wait_until(
            page, "document.querySelectorAll('#song-list li.song[data-feedback]').length == 2"
        )
        before = song_ids(page)
        with page.expect_navigation():
            page.select_option("#lang-select", "ar")
        wait_until(
            page,
            "document.documentElement.lang === 'ar' && !document.getElementById('results').hidden"
            " && document.getElementById('results').getAttribute('aria-busy') === 'false'",
        )
        assert song_ids(page) == before
        opinions = page.eval_on_selector_all(
            f"{SONGS}[data-feedback]", "els => els.map(e => e.dataset.feedback)"
        )
        assert opinions == ["like", "dislike"]
        dismissed = page.eval_on_selector_all(
            SONGS, "els => els.map(e => e.classList.contains('dismissed'))"
        )
        assert dismissed[:3] == [False, True, False]
        assert page.get_attribute("#preview-img", "src")  # the photo is still there
        reasons = page.locator(f"{SONGS} .song-reasons li").all_inner_texts()
        assert reasons and all(ARABIC.search(r) for r in reasons)
        assert ARABIC.search(page.inner_text("#explanation-text"))
        assert ARABIC.search(page.inner_text("#notices"))
        ctx.screenshot("visitor-language-switch-ar", full_page=False)
    finally:
        context.close()


def test_the_whole_fingerprint_is_shown_and_the_visitor_can_delete_the_photo(
    browser: Any, live_server: LiveServer, picture: Path
) -> None:
    context, ctx = _open(browser, live_server, "laptop")
    page = ctx.page
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(ctx.base_url + "/")
        page.check("#consent-input")
        _analyze(page, picture)
        sha = page.inner_text("#upload-sha").strip()
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
        assert page.evaluate("document.getElementById('upload-sha').scrollWidth") <= 1280
        page.click("#copy-sha")
        wait_until(page, "document.getElementById('upload-action-status').textContent !== ''")
        page.click("#delete-upload")
        wait_until(page, "document.getElementById('sha-row').hidden")
        assert "deleted" in page.inner_text("#upload-text")
        # it is gone: asking again (same visitor) finds nothing
        status = page.evaluate(
            f"async () => (await fetch('/api/v1/uploads/{sha}', {{method: 'DELETE'}})).status"
        )
        assert status == 404
    finally:
        context.close()


def test_api_docs_render_without_the_internet(browser: Any, live_server: LiveServer) -> None:
    context, ctx = _open(browser, live_server, "laptop")
    page = ctx.page
    try:
        page.goto(ctx.base_url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "tunelens" in page.inner_text(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 10
        assert ctx.outside_requests == []
    finally:
        context.close()
