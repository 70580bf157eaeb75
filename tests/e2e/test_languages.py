"""The page in other languages, in headless Chromium: the selector switches (and remembers)
the language, Arabic is laid out right to left without overflowing a phone, and the reading's
names and the songs' reasons come in the chosen language."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import PageContext, copy_to_docs
from tests.e2e.test_page import SONGS, analyze, photo, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0600-\u06FF]")
SPANISH_EMOTIONS = {
    "diversión",
    "asombro",
    "satisfacción",
    "entusiasmo",
    "ira",
    "asco",
    "miedo",
    "tristeza",
}
ENGLISH_EMOTIONS = {
    "amusement",
    "awe",
    "contentment",
    "excitement",
    "anger",
    "disgust",
    "fear",
    "sadness",
}


def switch_language(ctx: PageContext, lang: str) -> None:
    """Choose ``lang`` in the header's selector, as a person would, and wait for the page."""
    page = ctx.page
    page.goto(ctx.base_url + "/")
    with page.expect_navigation():
        page.select_option("#lang-select", lang)
    wait_until(page, f"document.documentElement.lang === '{lang}'")


def texts(ctx: PageContext, selector: str) -> list[str]:
    found: list[str] = ctx.page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")
    return found


def test_arabic_is_right_to_left_fits_a_phone_and_is_remembered(
    phone: PageContext,
    photo: Path,  # noqa: F811
) -> None:
    page = phone.page
    switch_language(phone, "ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    # remembered: a plain visit (analyze() opens "/") comes back in Arabic
    analyze(phone, photo)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.locator(SONGS).count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # the reading's names, the reasons and the explanation are Arabic …
    assert all(ARABIC.search(name) for name in texts(phone, "#emotion-bars .bar-name"))
    reasons = texts(phone, "#song-list .song-reasons li")
    assert reasons and all(ARABIC.search(reason) for reason in reasons)
    assert ARABIC.search(page.text_content("#explanation-text") or "")
    assert ARABIC.search(page.text_content("#analyze-btn") or "")
    # … while each song's title and artist keep their own direction, isolated
    isolation = page.eval_on_selector(
        "#song-list .song-title-text", "e => [e.tagName, getComputedStyle(e).unicodeBidi]"
    )
    assert isolation == ["BDI", "isolate"]
    # the layout mirrors: in a mood bar the name comes first from the right, the value last
    mirrored = page.evaluate(
        "() => { const li = document.querySelector('#emotion-bars li');"
        " const name = li.querySelector('.bar-name').getBoundingClientRect();"
        " const value = li.querySelector('.bar-value').getBoundingClientRect();"
        " return name.left > value.right; }"
    )
    assert mirrored
    shot = phone.screenshot("page-ar")
    if os.environ.get("TUNELENS_UPDATE_SCREENSHOTS") == "1":
        copy_to_docs(shot, "page-ar.png", max_height=3600)
    # switching back works the same way
    switch_language(phone, "en")
    assert page.evaluate("document.documentElement.dir") == "ltr"


def test_a_third_language_translates_emotion_names_and_reasons(
    desktop: PageContext,
    photo: Path,  # noqa: F811
) -> None:
    page = desktop.page
    switch_language(desktop, "es")
    analyze(desktop, photo)
    assert page.evaluate("document.documentElement.dir") == "ltr"
    names = set(texts(desktop, "#emotion-bars .bar-name"))
    assert names and names <= SPANISH_EMOTIONS and not names & ENGLISH_EMOTIONS
    reasons = texts(desktop, "#song-list .song-reasons li")
    assert len(reasons) >= 10
    spanish_words = ("imagen", "canciones", "ambiente", "transmite", "energía", "valencia")
    assert any(word in r for r in reasons for word in spanish_words), reasons
    english_words = ("the picture", "than most songs", "sounds like", "energy ")
    assert not any(word in r for r in reasons for word in english_words), reasons
    assert (page.text_content("#songs-heading") or "").strip() == "Canciones para esta foto"
    assert page.text_content("#show-more").strip() == "Mostrar 10 más"  # type: ignore[union-attr]
    desktop.screenshot("page-es")
