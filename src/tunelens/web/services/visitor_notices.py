"""What a visitor is told about how the engine runs: one short translated line per notice code.

The engine's notices are written for operators — they may name a cache folder, an errno or a
``pip install`` command — and go to the log, ``/health``, ``/ready`` and the admin page. A
visitor (the page, and the ``notices`` of an API answer) gets instead one short line in their
language, chosen by the notice's stable code (:mod:`tunelens.core.notices`), never by its
text, with a link to a page that says what it means (``/about``). Codes without a line here
(e.g. ``no_text_embeddings``) concern only the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunelens import i18n
from tunelens.core.notices import COLOUR_ENCODER, COLOUR_FALLBACK, RANDOM_WEIGHTS
from tunelens.i18n import N_

BASIC_MODE = N_("Basic mode: this photo is read from its colour and light only.")
TEST_MODE = N_("Test mode: the picture model here is untrained, so its readings mean nothing.")

#: notice code → (English line, the section of ``/about`` that explains it)
LINES: dict[str, tuple[str, str]] = {
    COLOUR_FALLBACK: (BASIC_MODE, "basic-mode"),
    COLOUR_ENCODER: (BASIC_MODE, "basic-mode"),
    RANDOM_WEIGHTS: (TEST_MODE, "test-mode"),
}
ABOUT_URL = "/about"


def help_urls() -> dict[str, str]:
    """Notice code → the address that explains it (the page links each notice there)."""
    return {code: f"{ABOUT_URL}#{anchor}" for code, (_, anchor) in LINES.items()}


@dataclass(frozen=True)
class VisitorNotice:
    code: str
    text: str
    help_url: str


def visitor_notices(codes: list[str], lang: str) -> list[VisitorNotice]:
    """The visitor's lines for ``codes`` in ``lang`` (each line once, in order)."""
    tr = i18n.translator(lang)
    out: list[VisitorNotice] = []
    seen: set[str] = set()
    for code in codes:
        if code not in LINES or LINES[code][0] in seen:
            continue
        msgid, anchor = LINES[code]
        seen.add(msgid)
        out.append(VisitorNotice(code, tr.gettext(msgid), f"{ABOUT_URL}#{anchor}"))
    return out


def notice_fields(codes: list[str], lang: str, extra: list[str]) -> dict[str, list[str]]:
    """An answer's ``notices`` (the visitor's lines, then ``extra`` — notices about the
    request itself, such as a language fallback) and ``notice_codes``, the codes of the first
    lines, in the same order."""
    lines = visitor_notices(codes, lang)
    return {
        "notices": [line.text for line in lines] + extra,
        "notice_codes": [line.code for line in lines],
    }
