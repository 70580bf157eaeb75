"""The page in headless Chromium: upload → reading + 10 songs, play, more like this, errors,
keyboard-only use, a phone-sized viewport, themes. Screenshots go to test-artifacts/."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tests.e2e.conftest import PageContext, copy_to_docs

pytestmark = pytest.mark.browser

PHOTO = "sunset_lake_rowboats_01.jpg"
SONGS = "#song-list > li.song"


@pytest.fixture(scope="module")
def photo() -> Path:
    return require_shared(PHOTOS_DIR / PHOTO)


def wait_until(page: Any, expression: str) -> None:
    """Wait for a JS expression; passed as a function, which the page's CSP allows."""
    page.wait_for_function(f"() => ({expression})")


def song_ids(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(SONGS, "els => els.map(e => e.dataset.trackId)")
    return ids


def analyze(ctx: PageContext, photo: Path, context_text: str | None = None) -> None:
    page = ctx.page
    page.goto(ctx.base_url + "/")
    page.set_input_files("#file-input", str(photo))
    page.wait_for_selector("#preview:not([hidden])")
    if context_text:
        page.fill("#context-input", context_text)
    page.click("#analyze-btn")
    wait_until(
        page,
        "document.querySelectorAll('#song-list > li.song').length === 10"
        " && document.getElementById('analyze-btn').getAttribute('aria-busy') === 'false'",
    )


def test_upload_shows_the_reading_and_ten_songs_with_reasons(
    desktop: PageContext, photo: Path
) -> None:
    page = desktop.page
    analyze(desktop, photo)
    assert page.is_visible("#results")
    assert page.locator("#emotion-bars li").count() == 4
    assert page.locator("#genre-bars li").count() == 3
    # the valence/arousal point moved off the centre of the circumplex
    cx = float(page.get_attribute("#va-point", "cx") or 120)
    cy = float(page.get_attribute("#va-point", "cy") or 120)
    assert (cx, cy) != (120.0, 120.0)
    # offline mode is said loudly
    assert "colour and light" in page.inner_text("#notices")
    songs = page.locator(SONGS)
    assert songs.count() == 10
    for i in range(10):
        song = songs.nth(i)
        assert song.locator(".song-title").inner_text().strip()
        assert song.locator(".song-artist").inner_text().strip()
        assert "score" in song.locator(".song-score").inner_text()
        assert song.locator(".song-reasons li").count() >= 1
    assert page.get_attribute("#preview-img", "alt") == f"Your photo: {PHOTO}"
    # nothing left the machine: the Spotify player is only loaded on a click
    assert desktop.outside_requests == []
    assert page.locator("iframe").count() == 0
    shot = desktop.screenshot("desktop-results")
    if os.environ.get("TUNELENS_UPDATE_SCREENSHOTS") == "1":
        copy_to_docs(shot, "page.png")


def test_play_loads_the_spotify_embed_only_when_clicked(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    analyze(desktop, photo)
    first = page.locator(SONGS).first
    track_id = first.get_attribute("data-track-id")
    assert page.locator("iframe").count() == 0
    first.locator("button.play").click()
    frame = first.locator(".player iframe")
    frame.wait_for()
    assert frame.get_attribute("src") == f"https://open.spotify.com/embed/track/{track_id}"
    assert "Spotify player" in (frame.get_attribute("title") or "")
    assert first.locator("button.play").get_attribute("aria-pressed") == "true"
    wait_until(page, "document.querySelector('.player iframe') !== null")
    assert any("open.spotify.com/embed/track/" in url for url in desktop.outside_requests)
    # a second song's player replaces the first: one player at a time
    second = page.locator(SONGS).nth(1)
    second.locator("button.play").click()
    second.locator(".player iframe").wait_for()
    assert page.locator("iframe").count() == 1
    desktop.screenshot("desktop-playing", full_page=False)


def test_more_like_this_replaces_the_list(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    analyze(desktop, photo)
    before = song_ids(page)
    seed_title = page.locator(SONGS).nth(2).locator(".song-title").inner_text()
    page.locator(SONGS).nth(2).locator("button.more-like").click()
    wait_until(page, "document.getElementById('songs-heading').textContent.startsWith('More like')")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 10")
    after = song_ids(page)
    assert not set(after) & set(before)
    assert seed_title in page.inner_text("#songs-heading")
    assert seed_title in page.locator(SONGS).first.locator(".song-reasons").inner_text()
    # "show 10 more" appends ten more, none of them shown before
    page.click("#show-more")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 20")
    everything = song_ids(page)
    assert len(set(everything)) == 20
    assert not set(everything) & set(before)


def test_show_more_for_the_photo_appends_new_songs(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    analyze(desktop, photo)
    before = song_ids(page)
    page.click("#show-more")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 20")
    ids = song_ids(page)
    assert ids[:10] == before
    assert len(set(ids)) == 20


def test_a_text_file_gives_an_inline_error(desktop: PageContext) -> None:
    page = desktop.page
    page.goto(desktop.base_url + "/")
    page.set_input_files(
        "#file-input",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"buy milk\n" * 10}],
    )
    page.click("#analyze-btn")
    error = page.locator("#error")
    error.wait_for(state="visible")
    wait_until(page, "document.getElementById('error').textContent.length > 0")
    assert error.get_attribute("role") == "alert"
    assert "isn't a picture" in error.inner_text()
    assert page.is_hidden("#results")
    assert page.get_attribute("#analyze-btn", "aria-busy") == "false"
    assert page.is_enabled("#analyze-btn")
    desktop.screenshot("desktop-error", full_page=False)


def test_analyze_without_a_photo_says_so(desktop: PageContext) -> None:
    page = desktop.page
    page.goto(desktop.base_url + "/")
    page.click("#analyze-btn")
    assert "photo first" in page.inner_text("#error")


def _focused(page: Any) -> str:
    return str(
        page.evaluate(
            "() => { const e = document.activeElement; return e.id || e.className || e.tagName; }"
        )
    )


def _tab_to(page: Any, predicate: str, limit: int = 40) -> int:
    """Press Tab until ``predicate`` (JS, over document.activeElement ``e``) holds."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!({predicate}); }}"):
            return presses
    raise AssertionError(f"Tab never reached {predicate}; last focus: {_focused(page)}")


def _has_visible_focus(page: Any, selector_js: str = "document.activeElement") -> bool:
    return bool(
        page.evaluate(
            f"() => {{ const s = getComputedStyle({selector_js});"
            " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
        )
    )


def test_the_whole_flow_by_keyboard_alone(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    choosers: list[Any] = []
    # listen before any key is pressed, so the chooser is intercepted from the first press
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    page.goto(desktop.base_url + "/")
    _tab_to(page, "e.id === 'file-input'")
    assert _has_visible_focus(page, "document.getElementById('drop-zone')")
    page.keyboard.press("Space")
    for _ in range(100):
        if choosers:
            break
        page.wait_for_timeout(50)
    assert choosers, "Space on the focused file input opened no file chooser"
    choosers[0].set_files(str(photo))
    page.wait_for_selector("#preview:not([hidden])")
    _tab_to(page, "e.id === 'context-input'")
    page.keyboard.type("golden evening by the lake")
    _tab_to(page, "e.id === 'analyze-btn'")
    assert _has_visible_focus(page)
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 10")
    # focus moved to the results, so the next Tab continues there
    wait_until(page, "document.activeElement.id === 'reading-heading'")
    _tab_to(page, "e.classList.contains('play')")
    assert _has_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_selector("#song-list .player iframe")
    before = song_ids(page)
    _tab_to(page, "e.classList.contains('more-like')")
    page.keyboard.press("Space")
    wait_until(page, "document.getElementById('songs-heading').textContent.startsWith('More like')")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 10")
    assert not set(song_ids(page)) & set(before)
    assert _focused(page) == "songs-heading"


def test_phone_viewport_has_no_horizontal_scroll(phone: PageContext, photo: Path) -> None:
    page = phone.page
    no_scroll = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    page.goto(phone.base_url + "/")
    assert page.evaluate(no_scroll)
    assert page.is_visible(".camera-button")  # phones can take a photo directly
    assert page.get_attribute("#camera-input", "capture") == "environment"
    analyze(phone, photo)
    page.locator(SONGS).first.locator("button.play").click()
    page.locator(".player iframe").wait_for()
    assert page.evaluate(no_scroll)
    widths = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".filter(e => !e.closest('.visually-hidden, .file-input'))"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert widths == []
    phone.screenshot("phone-results")


def test_theme_defaults_to_dark_toggles_and_is_remembered(browser: Any, live_server: Any) -> None:
    from tests.e2e.conftest import open_context

    # dark by default (as docs/web.md says), whatever the system's scheme
    for scheme in ("dark", "light"):
        context, ctx = open_context(browser, live_server, color_scheme=scheme)
        ctx.page.goto(ctx.base_url + "/")
        assert ctx.page.get_attribute("html", "data-theme") == "dark"
        assert ctx.page.inner_text("#theme-toggle").strip() == "Switch to light theme"
        context.close()
    context, ctx = open_context(browser, live_server, color_scheme="dark")
    page = ctx.page
    page.goto(ctx.base_url + "/")
    page.click("#theme-toggle")
    assert page.get_attribute("html", "data-theme") == "light"
    # the label follows the state: it always names the theme the button switches to
    assert page.inner_text("#theme-toggle").strip() == "Switch to dark theme"
    page.reload()
    assert page.get_attribute("html", "data-theme") == "light"
    assert page.inner_text("#theme-toggle").strip() == "Switch to dark theme"
    ctx.screenshot("desktop-light", full_page=False)
    context.close()


def test_drop_and_paste_choose_the_photo(desktop: PageContext, photo: Path) -> None:
    page = desktop.page
    page.goto(desktop.base_url + "/")
    payload = base64.b64encode(photo.read_bytes()).decode()
    make_file = (
        "b64 => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));"
        " const dt = new DataTransfer();"
        " dt.items.add(new File([bytes], 'dropped.jpg', {type: 'image/jpeg'})); return dt; }"
    )
    page.evaluate(
        f"b64 => {{ const dt = ({make_file})(b64);"
        " document.getElementById('drop-zone').dispatchEvent("
        "new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); }",
        payload,
    )
    assert page.inner_text("#preview-name") == "dropped.jpg"
    page.evaluate(
        f"b64 => {{ const dt = ({make_file})(b64);"
        " document.dispatchEvent(new ClipboardEvent('paste',"
        " {clipboardData: dt, bubbles: true, cancelable: true})); }",
        payload,
    )
    assert page.inner_text("#preview-name") == "dropped.jpg"  # same name: the pasted file
    page.click("#analyze-btn")
    wait_until(page, "document.querySelectorAll('#song-list > li.song').length === 10")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    def parse(hex_colour: str) -> tuple[float, float, float]:
        h = hex_colour.strip().lstrip("#")
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))

    la, lb = sorted((_luminance(parse(a)), _luminance(parse(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_colour_pairs_meet_wcag_aa_and_controls_are_labelled(
    desktop: PageContext, theme: str
) -> None:
    page = desktop.page
    page.goto(desktop.base_url + "/")
    page.evaluate(f"() => document.documentElement.setAttribute('data-theme', '{theme}')")
    var = page.evaluate(
        "() => { const s = getComputedStyle(document.documentElement); const out = {};"
        " for (const n of ['bg','panel','panel-2','text','muted','accent','accent-text',"
        "'error-bg','error-text','notice-bg','notice-text','focus'])"
        " out[n] = s.getPropertyValue('--' + n).trim(); return out; }"
    )
    pairs = [
        ("text", "bg", 4.5),
        ("text", "panel", 4.5),
        ("text", "panel-2", 4.5),
        ("muted", "panel", 4.5),
        ("muted", "panel-2", 4.5),
        ("accent-text", "accent", 4.5),
        ("accent", "panel", 4.5),
        ("error-text", "error-bg", 4.5),
        ("notice-text", "notice-bg", 4.5),
        ("focus", "panel", 3.0),
        ("focus", "bg", 3.0),
    ]
    for fg, bg, minimum in pairs:
        ratio = _contrast(var[fg], var[bg])
        assert ratio >= minimum, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"
    unlabelled = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea, select')]"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id)"
    )
    assert unlabelled == []
    nameless = page.evaluate(
        "() => [...document.querySelectorAll('button, a[href]')]"
        ".filter(e => !e.hidden && !(e.getAttribute('aria-label') || e.textContent.trim()))"
        ".map(e => e.outerHTML)"
    )
    assert nameless == []
