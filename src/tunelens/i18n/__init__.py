"""Languages: gettext catalogues (managed with Babel), negotiation, and locale-aware numbers.

Every sentence a listener sees is an English ``msgid`` marked with ``_()`` / ``ngettext`` /
``pgettext`` in the code, the Jinja templates and the page's script; ``locales/<lang>/
LC_MESSAGES/messages.po`` holds each language's translations (the sources, committed) and
``messages.mo`` their compiled form (built by ``scripts/setup.sh`` and the wheel build, never
committed or edited by hand). See :mod:`tunelens.i18n.catalogs` for extract/update/compile.

Why a *current* language (a :class:`~contextvars.ContextVar`) besides explicit translators:
the per-song reasons are written deep inside the ranking code, and threading a language
through every ranking signature would tie ranking to presentation. The engine sets the
language once per request (:func:`use`); the ranking code just calls :func:`current`. Context
variables follow the request into the worker thread that runs the engine, so concurrent
requests in different languages never see each other's language.

A ``.mo`` that is missing or older than its ``.po`` is compiled on the fly when first needed
(and written back when the folder is writable), so an editable checkout never serves stale
text and a fresh clone works before any build step ran.
"""

from __future__ import annotations

import gettext as gettext_module
import io
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern

from tunelens.core.atomic import write_atomic
from tunelens.core.errors import InvalidRequest
from tunelens.i18n.labels import label as vocabulary_label
from tunelens.i18n.markers import N_ as N_
from tunelens.i18n.markers import NP_ as NP_

log = logging.getLogger("tunelens.i18n")

DEFAULT_LANG = "en"
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: a language tag as BCP 47 spells it (``en``, ``ar-SA``, ``pt-BR``, ``zh-Hant-TW``)
LANG_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
#: the cookie the page's language selector sets (also remembered in localStorage)
LANG_COOKIE = "tunelens_lang"
#: first-strong isolates for numbers and Latin names inside right-to-left text (Unicode TR 9)
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"


# --- which languages exist -------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    """A language tunelens speaks: its code, its own name for itself and its direction."""

    code: str
    name: str
    english_name: str
    dir: str

    @property
    def rtl(self) -> bool:
        return self.dir == "rtl"


def _language(code: str) -> Language:
    locale = Locale.parse(code)
    native = locale.get_display_name(code) or code
    return Language(
        code=code,
        name=native[:1].upper() + native[1:],
        english_name=locale.get_display_name("en") or code,
        dir="rtl" if locale.character_order == "right-to-left" else "ltr",
    )


@cache
def _languages(directory: str) -> dict[str, Language]:
    codes = {DEFAULT_LANG}
    folder = Path(directory)
    if folder.is_dir():
        codes |= {p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    ordered = sorted(codes, key=lambda c: (c != DEFAULT_LANG, c))
    return {code: _language(code) for code in ordered}


def languages() -> dict[str, Language]:
    """Every language with a catalogue (English, the source language, always first)."""
    return _languages(str(LOCALES_DIR))


def supported(code: str) -> bool:
    return code in languages()


# --- negotiation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LangChoice:
    """The language an answer is in, and how it was chosen.

    ``fallback`` is true when the caller asked for a language tunelens does not speak (by the
    ``lang`` parameter): the answer is English and :attr:`notice` says so.
    """

    lang: str
    requested: str | None = None
    source: str = "default"  # "param", "cookie", "header" or "default"
    fallback: bool = False

    @property
    def dir(self) -> str:
        return languages()[self.lang].dir

    @property
    def notice(self) -> str | None:
        if not self.fallback:
            return None
        return translator(self.lang).gettext(
            "Texts in '%(requested)s' are not available yet; answering in English.",
            requested=self.requested or "",
        )


def _match(tag: str) -> str | None:
    """The supported language for a tag: exact (``pt``), then its primary subtag
    (``ar-SA`` → ``ar``)."""
    low = tag.strip().lower()
    if supported(low):
        return low
    primary = low.split("-")[0]
    return primary if supported(primary) else None


def check_tag(raw: str) -> str:
    """``raw`` stripped, or :class:`InvalidRequest` (``invalid_lang``) when it is not a tag."""
    value = raw.strip()
    if not LANG_TAG_RE.match(value):
        raise InvalidRequest(
            f"lang must be a language tag such as 'en' or 'ar', got {raw!r}.",
            code="invalid_lang",
            details={"actual": raw, "supported": list(languages())},
        )
    return value


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (RFC 9110 §12.5.4);
    malformed entries and ``q=0`` are skipped, ``*`` is dropped (English is the default
    anyway)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        parts = [p.strip() for p in item.split(";")]
        tag = parts[0]
        if not tag or tag == "*" or not LANG_TAG_RE.match(tag):
            continue
        q = 1.0
        for param in parts[1:]:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if 0.0 < q <= 1.0:
            weighted.append((-q, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    param: str | None = None,
    *,
    cookie: str | None = None,
    accept_language: str | None = None,
) -> LangChoice:
    """The language to answer in: the ``lang`` parameter, else the page's cookie, else the
    best ``Accept-Language`` match, else English.

    An explicit ``lang`` tunelens does not speak falls back to English with ``fallback``
    set (the answer says so); one that is not a language tag at all is ``invalid_lang``.
    An unknown cookie or header language falls back silently, as HTTP negotiation does.
    """
    if param is not None and param.strip():
        tag = check_tag(param)
        found = _match(tag)
        if found:
            return LangChoice(found, requested=tag, source="param")
        return LangChoice(DEFAULT_LANG, requested=tag, source="param", fallback=True)
    if cookie and LANG_TAG_RE.match(cookie.strip()):
        found = _match(cookie)
        if found:
            return LangChoice(found, requested=cookie.strip(), source="cookie")
    for tag in parse_accept_language(accept_language):
        found = _match(tag)
        if found:
            return LangChoice(found, requested=tag, source="header")
    return LangChoice(DEFAULT_LANG)


def resolve(lang: str | None) -> str:
    """A supported language for ``lang`` (its primary subtag), English otherwise."""
    if not lang:
        return DEFAULT_LANG
    return _match(lang) or DEFAULT_LANG


# --- catalogues -------------------------------------------------------------------------------


def _compile(po_path: Path) -> bytes:
    """The ``.mo`` bytes of one ``.po`` file (fuzzy entries left out, as msgfmt does)."""
    # Babel's message tools (~25 ms to import) are needed only when a .po is newer than its .mo
    from babel.messages.mofile import write_mo  # noqa: PLC0415 - rarely needed, see above
    from babel.messages.pofile import read_po  # noqa: PLC0415 - rarely needed, see above

    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=po_path.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def load_translations(lang: str, directory: Path | None = None) -> gettext_module.NullTranslations:
    """The compiled catalogue of ``lang``; compiled from its ``.po`` when the ``.mo`` is
    missing or older (and saved when the folder is writable)."""
    folder = (directory or LOCALES_DIR) / lang / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if not po_path.is_file():
        if mo_path.is_file():  # an installed wheel may carry only the compiled catalogue
            with mo_path.open("rb") as handle:
                return gettext_module.GNUTranslations(handle)
        return gettext_module.NullTranslations()
    if mo_path.is_file() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as handle:
            return gettext_module.GNUTranslations(handle)
    data = _compile(po_path)
    try:
        write_atomic(mo_path, data, durable=False)  # rebuilt from the .po if ever lost
    except OSError as exc:  # a read-only install: the in-memory catalogue still serves
        log.debug("could not save %s: %s", mo_path, exc)
    return gettext_module.GNUTranslations(io.BytesIO(data))


# --- translators ------------------------------------------------------------------------------


class Translator:
    """One language's messages and number formats.

    ``gettext``/``ngettext``/``pgettext`` fill ``%(name)s`` placeholders from keyword
    arguments (the gettext convention Babel checks); called without values they return the
    message as it is, so a ``%`` in a message without placeholders is safe.
    """

    def __init__(self, lang: str, translations: gettext_module.NullTranslations) -> None:
        self.lang = lang
        self.language = languages().get(lang) or _language(lang)
        self.locale = Locale.parse(lang)
        self._t = translations

    @property
    def dir(self) -> str:
        return self.language.dir

    @property
    def rtl(self) -> bool:
        return self.language.rtl

    # raw lookups (no formatting): what Jinja's newstyle gettext wraps
    def raw_gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def raw_ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def raw_pgettext(self, context: str, message: str) -> str:
        return self._t.pgettext(context, message)

    def raw_npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self._t.npgettext(context, singular, plural, n)

    def gettext(self, message: str, **values: Any) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % {"count": self.integer(n), **values}

    def pgettext(self, context: str, message: str, **values: Any) -> str:
        text = self._t.pgettext(context, message)
        return text % values if values else text

    # numbers, per locale (Babel, Latin digits)
    def isolate(self, text: str) -> str:
        """``text`` as a left-to-right island inside right-to-left prose (numbers with signs,
        Latin names); unchanged in left-to-right languages."""
        return f"{LRI}{text}{PDI}" if self.rtl else text

    def percent(self, p: float) -> str:
        return self.isolate(format_percent(p, locale=self.locale))

    def integer(self, n: int) -> str:
        return format_decimal(n, locale=self.locale)

    def decimal(self, x: float, digits: int = 2) -> str:
        # what format_decimal does, minus re-parsing the pattern: every song's reasons format
        # a few numbers, and parsing was most of the cost (≈ 1 ms a request)
        text: str = _fixed_pattern(digits).apply(x, self.locale)
        return text

    def signed(self, x: float, digits: int = 2) -> str:
        """``+0.42`` / ``−0.10`` with the locale's decimal sign and a true minus sign."""
        sign = "−" if x < 0 and round(abs(x), digits) > 0 else "+"
        return self.isolate(sign + self.decimal(abs(x), digits))

    def join(self, items: Sequence[str]) -> str:
        """ "a", "a and b", "a, b and c" in this language (CLDR list patterns)."""
        return format_list(list(items), locale=self.locale) if items else ""

    def label(self, kind: str, name: str) -> str:
        """The shown name of a vocabulary entry (``emotion``/``awe``); ``name`` itself when
        the vocabulary has no such entry (an operator's own genre, say)."""
        return vocabulary_label(self, kind, name)


@cache
def _fixed_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0." + "0" * digits)


@cache
def _translator(lang: str, directory: str) -> Translator:
    if lang == DEFAULT_LANG:
        return Translator(lang, gettext_module.NullTranslations())
    return Translator(lang, load_translations(lang, Path(directory)))


def translator(lang: str | None = DEFAULT_LANG) -> Translator:
    """The translator for ``lang`` (resolved as :func:`resolve` does)."""
    return _translator(resolve(lang), str(LOCALES_DIR))


def reload() -> None:
    """Forget loaded catalogues (after ``tunelens.i18n.catalogs compile`` in a live process)."""
    _translator.cache_clear()
    _languages.cache_clear()


_current: ContextVar[str] = ContextVar("tunelens_lang", default=DEFAULT_LANG)


def current() -> Translator:
    """The translator of the language set by the innermost :func:`use` (English outside)."""
    return translator(_current.get())


@contextmanager
def use(lang: str | None) -> Iterator[Translator]:
    """Make ``lang`` the current language for the code inside the ``with`` block."""
    tr = translator(lang)
    token = _current.set(tr.lang)
    try:
        yield tr
    finally:
        _current.reset(token)


def _(message: str, **values: Any) -> str:
    """Translate ``message`` into the current language."""
    return current().gettext(message, **values)


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    return current().ngettext(singular, plural, n, **values)


def pgettext(context: str, message: str, **values: Any) -> str:
    return current().pgettext(context, message, **values)


__all__ = [
    "DEFAULT_LANG",
    "LANG_COOKIE",
    "NP_",
    "N_",
    "LangChoice",
    "Language",
    "Translator",
    "_",
    "check_tag",
    "current",
    "languages",
    "load_translations",
    "negotiate",
    "ngettext",
    "parse_accept_language",
    "pgettext",
    "reload",
    "resolve",
    "supported",
    "translator",
    "use",
]
