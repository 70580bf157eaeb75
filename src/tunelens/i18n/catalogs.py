"""Catalogue upkeep with Babel: extract, update, init, compile and check.

``python -m tunelens.i18n.catalogs <command>`` from the repository root:

* ``extract`` — every marked message of the Python code, the Jinja templates and the page's
  script (``babel.cfg`` says which extractor reads which files) into ``locales/messages.pot``;
* ``update`` — merge the ``.pot`` into every ``<lang>/LC_MESSAGES/messages.po`` (new
  messages appear untranslated, changed ones fuzzy, removed ones are dropped);
* ``init LANG`` — start a new language from the ``.pot``;
* ``compile`` — ``.po`` → ``.mo`` (run by ``scripts/setup.sh`` and the wheel build);
* ``check`` — what the test suite asserts: the ``.pot`` and every ``.po`` match a fresh
  extraction (no missing, stale, fuzzy or empty message; placeholders intact).

The same functions back the tests, so "the catalogues are complete" means one thing.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from tunelens import __version__
from tunelens.i18n import DOMAIN, LOCALES_DIR

#: Babel's keywords plus our deferred markers (``N_`` is already one of Babel's)
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
MAPPING_FILE = "babel.cfg"
PROJECT = "tunelens"
BUGS_ADDRESS = "https://github.com/tunelens/tunelens/issues"

MessageId = str | tuple[str, ...] | list[str]
Key = tuple[str | tuple[str, ...], str | None]


def find_root(start: Path | None = None) -> Path:
    """The source checkout holding ``babel.cfg`` (catalogues are managed from source)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MAPPING_FILE).is_file() and (folder / "src" / "tunelens").is_dir():
            return folder
    raise SystemExit(
        f"no {MAPPING_FILE} found above {here}: run this from a tunelens source checkout"
    )


def extract(root: Path) -> Catalog:
    """A fresh template catalogue of every marked message under ``root``."""
    with (root / MAPPING_FILE).open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            handle, str(root / MAPPING_FILE)
        )
    catalog = Catalog(
        project=PROJECT,
        version=__version__,
        msgid_bugs_address=BUGS_ADDRESS,
        copyright_holder="tunelens contributors",
        fuzzy=False,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write_po(catalog: Catalog, path: Path) -> None:
    """Write without line numbers: a shifted line elsewhere must not churn every catalogue."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _read_po(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def po_files(locales: Path = LOCALES_DIR) -> dict[str, Path]:
    """Language code → its ``.po`` file."""
    return {p.parent.parent.name: p for p in sorted(locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def write_template(root: Path, locales: Path = LOCALES_DIR) -> Catalog:
    template = extract(root)
    _write_po(template, locales / f"{DOMAIN}.pot")
    return template


def update(root: Path, locales: Path = LOCALES_DIR) -> list[str]:
    """Extract, then merge the template into every language; the languages touched."""
    template = write_template(root, locales)
    done = []
    for lang, path in po_files(locales).items():
        catalog = _read_po(path, lang)
        catalog.update(template, update_header_comment=False, update_creation_date=False)
        catalog.obsolete.clear()
        _write_po(catalog, path)
        done.append(lang)
    return done


def init(root: Path, lang: str, locales: Path = LOCALES_DIR) -> Path:
    """A new, untranslated ``.po`` for ``lang`` (its plural rule from CLDR via Babel)."""
    path = locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise SystemExit(f"{path} exists already; use 'update'")
    template = write_template(root, locales)
    catalog = Catalog(locale=lang, domain=DOMAIN, project=PROJECT, version=__version__)
    catalog.update(template)
    _write_po(catalog, path)
    return path


def compile_all(locales: Path = LOCALES_DIR) -> dict[str, int]:
    """Every ``.po`` → ``.mo`` beside it (fuzzy entries left out); language → messages."""
    counts = {}
    for lang, path in po_files(locales).items():
        catalog = _read_po(path, lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        path.with_suffix(".mo").write_bytes(buffer.getvalue())
        counts[lang] = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
    return counts


# --- checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one catalogue."""

    catalogue: str
    kind: str  # missing, stale, fuzzy, untranslated, format, obsolete
    message: str

    def __str__(self) -> str:
        return f"{self.catalogue}: {self.kind}: {self.message}"


def _key(msgid: MessageId, context: str | None) -> Key:
    return (msgid if isinstance(msgid, str) else tuple(msgid), context)


def _keys(catalog: Iterable[Message]) -> set[Key]:
    return {_key(m.id, m.context) for m in catalog if m.id}


def _show(key: Key) -> str:
    msgid, context = key
    text = msgid if isinstance(msgid, str) else msgid[0]
    return f"[{context}] {text!r}" if context else repr(text)


def _untranslated(message: Message) -> bool:
    if isinstance(message.string, (list, tuple)):
        return any(not s for s in message.string)
    return not message.string


def check_catalog(name: str, catalog: Catalog, template: Catalog) -> list[Problem]:
    """``catalog`` against a fresh ``template``: missing, stale, fuzzy, empty, bad format."""
    problems = []
    want, have = _keys(template), _keys(catalog)
    problems += [Problem(name, "missing", _show(k)) for k in sorted(want - have, key=str)]
    problems += [Problem(name, "stale", _show(k)) for k in sorted(have - want, key=str)]
    problems += [Problem(name, "obsolete", _show(_key(k, None))) for k in catalog.obsolete]
    if catalog.locale is None:  # the .pot: ids only
        return problems
    for message in catalog:
        if not message.id:
            continue
        key = _show(_key(message.id, message.context))
        if message.fuzzy:
            problems.append(Problem(name, "fuzzy", key))
        elif _untranslated(message):
            problems.append(Problem(name, "untranslated", key))
    for message, errors in catalog.check():
        for error in errors:
            problems.append(
                Problem(name, "format", f"{_show(_key(message.id, message.context))}: {error}")
            )
    return problems


def check(root: Path, locales: Path = LOCALES_DIR) -> list[Problem]:
    """Every problem of the committed ``.pot`` and ``.po`` files against a fresh extraction."""
    template = extract(root)
    problems = []
    pot = locales / f"{DOMAIN}.pot"
    if not pot.is_file():
        problems.append(Problem(pot.name, "missing", "the template; run 'extract'"))
    else:
        problems += check_catalog(pot.name, _read_po(pot), template)
    for lang, path in po_files(locales).items():
        problems += check_catalog(lang, _read_po(path, lang), template)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m tunelens.i18n.catalogs extract|update|init LANG|compile|check"
    if not args:
        print(usage, file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command == "compile":
        for lang, count in compile_all().items():
            print(f"{lang}: {count} messages compiled")
        return 0
    root = find_root()
    if command == "extract":
        template = write_template(root)
        print(f"{len(template)} messages → {LOCALES_DIR / (DOMAIN + '.pot')}")
    elif command == "update":
        print("updated: " + ", ".join(update(root)))
    elif command == "init" and len(rest) == 1:
        print(f"created {init(root, rest[0])}")
    elif command == "check":
        problems = check(root)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems")
        return 1 if problems else 0
    else:
        print(usage, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
