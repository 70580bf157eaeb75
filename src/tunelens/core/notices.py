"""Notices: a sentence for operators plus a stable code the front ends key on.

A notice's text is written for the operator who can fix the cause (it may name a folder, an
errno or a command), so it goes to the CLI, the log, ``/health`` and the admin page. A visitor
sees instead a short translated line chosen by the notice's ``code`` — never by matching the
text, which changes whenever its wording improves.

:class:`Notice` is a ``str``: every place that carries notices as plain strings keeps working,
and :func:`notice_code` reads the code back (``None`` for a notice without one).
"""

from __future__ import annotations

#: readings come from colour and light because ``auto`` found no usable CLIP weights
COLOUR_FALLBACK = "colour_fallback"
#: readings come from colour and light because the operator chose the colour encoder
COLOUR_ENCODER = "colour_encoder"
#: the picture model has random weights: its readings mean nothing (tests only)
RANDOM_WEIGHTS = "random_weights"
#: the catalogue has no song-text embeddings for the model: text similarity is off
NO_TEXT_EMBEDDINGS = "no_text_embeddings"


class Notice(str):
    """An operator's notice (the string itself) with a stable ``code``."""

    code: str

    def __new__(cls, text: str, code: str = "") -> Notice:
        notice = super().__new__(cls, text)
        notice.code = code
        return notice


def notice_code(notice: str) -> str | None:
    """The notice's stable code, or ``None`` for a plain string."""
    code = getattr(notice, "code", "")
    return code or None


def visitor_codes(notices: list[str], *, colour_only: bool) -> list[str]:
    """The codes of ``notices`` in order, once each, led by :data:`COLOUR_ENCODER` when the
    readings come from colour and light by choice (no notice says so: the operator chose it,
    but a visitor still needs to know)."""
    codes = list(dict.fromkeys(code for code in map(notice_code, notices) if code))
    if colour_only and COLOUR_FALLBACK not in codes:
        codes.insert(0, COLOUR_ENCODER)
    return codes
