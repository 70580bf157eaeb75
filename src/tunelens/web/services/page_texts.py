"""The page script's texts, rendered by the server from the same gettext catalogues.

``static/app.js`` marks its strings as ``_("…")``, ``pgettext("ctx", "…")`` and
``ngettext("one …", "%(count)s …", n)``; Babel's JavaScript extractor puts them in the
catalogues beside the Python and template messages. At run time the server extracts the same
calls from the installed ``app.js`` (once per process) and embeds their translations in the
page as JSON, so the script never ships its own table and never needs a build step.

Plural forms: the browser picks a CLDR plural category with ``Intl.PluralRules``; for each
category of the language the server fills in the gettext plural form of a number in that
category, so the script needs no plural formula (and no ``eval`` under the page's CSP).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract

from tunelens.i18n import Translator
from tunelens.i18n.catalogs import KEYWORDS
from tunelens.web.assets import PAGE_SCRIPT

SCRIPT = PAGE_SCRIPT
#: numbers tried when looking for one number of each plural category (CLDR's "many" in
#: Spanish, French and Portuguese starts at a million)
_SAMPLES = (*range(0, 200), 1_000, 10_000, 100_000, 1_000_000)
#: msgctxt and msgid joined as gettext's .mo files join them
CONTEXT_SEPARATOR = "\x04"

Message = tuple[str | tuple[str, ...], str | None]


@cache
def script_messages(path: Path = SCRIPT) -> tuple[Message, ...]:
    """The (msgid or (singular, plural), msgctxt) of every marked string in the script."""
    out: list[Message] = []
    with path.open("rb") as handle:
        for _lineno, message, _comments, context in extract(
            "javascript", handle, keywords=KEYWORDS
        ):
            item: Message = (message, context)
            if item not in out:
                out.append(item)
    return tuple(out)


def _plural_forms(tr: Translator, singular: str, plural: str) -> dict[str, str]:
    rule = tr.locale.plural_form
    forms: dict[str, str] = {}
    for category in sorted({*rule.tags, "other"}):
        sample = next((n for n in _SAMPLES if rule(n) == category), None)
        if sample is not None:
            forms[category] = tr.raw_ngettext(singular, plural, sample)
    return forms


def script_texts(tr: Translator, path: Path = SCRIPT) -> dict[str, Any]:
    """msgid (``ctx\\x04msgid`` with a context) → translation, or CLDR category → form for
    plural messages (keyed by the singular msgid)."""
    texts: dict[str, Any] = {}
    for message, context in script_messages(path):
        if isinstance(message, tuple):
            singular, plural = str(message[0]), str(message[1])
            texts[singular] = _plural_forms(tr, singular, plural)
        elif context:
            texts[f"{context}{CONTEXT_SEPARATOR}{message}"] = tr.raw_pgettext(context, message)
        else:
            texts[message] = tr.raw_gettext(message)
    return texts
