"""Notices: an operator's sentence that is still a ``str``, with a stable code beside it."""

from __future__ import annotations

import json
import pickle

from tunelens.core.notices import (
    COLOUR_ENCODER,
    COLOUR_FALLBACK,
    NO_TEXT_EMBEDDINGS,
    RANDOM_WEIGHTS,
    Notice,
    notice_code,
    visitor_codes,
)


def test_a_notice_is_its_text_and_carries_a_code() -> None:
    notice = Notice("No CLIP model could be loaded (…).", COLOUR_FALLBACK)
    assert notice == "No CLIP model could be loaded (…)." and isinstance(notice, str)
    assert json.dumps([notice]) == '["No CLIP model could be loaded (\\u2026)."]'
    assert notice_code(notice) == COLOUR_FALLBACK
    assert notice_code("a plain notice") is None
    copy = pickle.loads(pickle.dumps(notice))  # e.g. to a batch worker
    assert copy == notice and notice_code(copy) == COLOUR_FALLBACK


def test_visitor_codes_keep_order_drop_repeats_and_say_colour_by_choice() -> None:
    notices = [
        Notice("weights", RANDOM_WEIGHTS),
        "a head was refused",  # the operator's only: no code
        Notice("text", NO_TEXT_EMBEDDINGS),
        Notice("weights again", RANDOM_WEIGHTS),
    ]
    assert visitor_codes(notices, colour_only=False) == [RANDOM_WEIGHTS, NO_TEXT_EMBEDDINGS]
    assert visitor_codes([], colour_only=True) == [COLOUR_ENCODER]
    fell_back = [Notice("no CLIP", COLOUR_FALLBACK)]
    assert visitor_codes(fell_back, colour_only=True) == [COLOUR_FALLBACK]
