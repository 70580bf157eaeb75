"""No user-visible text in a template outside the translation functions.

The Jinja templates are parsed with the i18n extension; text inside ``_()``, ``ngettext()``,
``pgettext()`` or ``{% trans %}`` is a gettext call, everything else is ``TemplateData``.
That static HTML is then read for what a person sees — text between tags and the
``alt``/``title``/``placeholder``/``aria-label``/``label`` attributes — and any letters found
there fail the test. Names that are never translated (tunelens, M3U8, JSPF) are allowed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from tunelens.web.assets import TEMPLATES_DIR

TEMPLATES = TEMPLATES_DIR
VISIBLE_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}
#: proper names and format names, the same in every language
UNTRANSLATED = {"tunelens", "M3U8", "JSPF"}
#: stands for a Jinja expression inside the static HTML (it is not visible text)
EXPR = "\ufffc"
LETTERS = re.compile(r"[^\W\d_]{2,}")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value, f"{tag}[{name}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data, "text")

    def _check(self, text: str, where: str) -> None:
        words = [w for w in LETTERS.findall(text.replace(EXPR, " ")) if w not in UNTRANSLATED]
        if words:
            self.found.append(f"{where}: {text.replace(EXPR, '{{…}}').strip()!r}")


def untranslated_text(source: str) -> list[str]:
    """Visible text of a template that does not go through gettext."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(source)
    # static HTML in order, each expression replaced by a marker, so attributes stay whole
    pieces: list[str] = []
    for output in tree.find_all(nodes.Output):
        for node in output.nodes:
            pieces.append(node.data if isinstance(node, nodes.TemplateData) else EXPR)
    parser = _VisibleText()
    parser.feed("".join(pieces))
    parser.close()
    return parser.found


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_visible_text_outside_gettext(path: Path) -> None:
    assert untranslated_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("<p>Hello there</p>", "text: 'Hello there'"),
        ('<img alt="A photo" src="x.png">', "img[alt]: 'A photo'"),
        ('<button aria-label="Close {{ name }}">x</button>', "button[aria-label]"),
        ('<input placeholder="e.g. rain">', "input[placeholder]"),
        ("<h1>{{ _('Fine') }} but not this</h1>", "text: '{{…}} but not this'"),
    ],
)
def test_the_lint_catches_text_outside_gettext(source: str, problem: str) -> None:
    found = untranslated_text(source)
    assert found and found[0].startswith(problem), found


@pytest.mark.parametrize(
    "source",
    [
        "<p>{{ _('Hello there') }}</p>",
        "<p>{% trans %}Hello there{% endtrans %}</p>",
        "<img alt=\"{{ _('A photo') }}\">",
        "<p>{{ ngettext('%(num)s song', '%(num)s songs', n) }}</p>",
        '<script type="application/json">{"not": "visible"}</script>',
        "<span>tunelens {{ version }}</span> <b>M3U8</b> · 12",
    ],
)
def test_the_lint_accepts_translated_and_non_text(source: str) -> None:
    assert untranslated_text(source) == []
