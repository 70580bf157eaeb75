"""The gettext catalogues match the code: a fresh Babel extraction (Python, Jinja templates,
the page's script) against the committed ``.pot`` and every language's ``.po`` — no message
missing, none stale, none fuzzy or empty, placeholders intact. The checker itself is shown
to fail on each kind of problem, so a green run means something."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from tunelens import i18n
from tunelens.i18n import catalogs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogs.extract(ROOT)


def test_every_catalogue_matches_a_fresh_extraction(tmp_path: Path) -> None:
    problems = catalogs.check(ROOT)
    assert not problems, "\n".join(map(str, problems)) + (
        "\nrun: python -m tunelens.i18n.catalogs update, translate, then check"
    )
    # the extraction really covers all three sources
    fresh = catalogs.extract(ROOT)
    where = {path for m in fresh for path, _ in m.locations}
    assert any(p.endswith("templates/index.html") for p in where)
    assert any(p.endswith("static/app.js") for p in where)
    assert any(p.endswith("explain/reasons.py") for p in where)
    assert len(fresh) > 300
    catalogs.write_template(ROOT, tmp_path)  # extraction can be written anywhere
    assert (tmp_path / "messages.pot").stat().st_size > 10_000


def test_english_arabic_and_at_least_three_more_languages() -> None:
    langs = set(catalogs.po_files())
    assert {"ar", "es", "fr", "hi"} <= langs


def _copy(lang: str, template: Catalog) -> Catalog:
    from babel.messages.pofile import read_po

    with catalogs.po_files()[lang].open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    assert catalogs.check_catalog(lang, catalog, template) == []
    return catalog


def test_the_check_finds_missing_stale_fuzzy_empty_and_broken_placeholders(
    template: Catalog,
) -> None:
    catalog = _copy("es", template)
    del catalog["Heatmap"]
    catalog.add("A sentence nobody marks any more", "Una frase")
    catalog.get("Photo").flags.add("fuzzy")
    catalog.get("Region").string = ""
    catalog.get("Your photo: %(name)s").string = "Tu foto: %(nombre)s"
    kinds = {
        (p.kind, p.message.split(":")[0]) for p in catalogs.check_catalog("es", catalog, template)
    }
    assert ("missing", "'Heatmap'") in kinds
    assert ("stale", "'A sentence nobody marks any more'") in kinds
    assert ("fuzzy", "'Photo'") in kinds
    assert ("untranslated", "'Region'") in kinds
    assert ("format", "'Your photo") in kinds


def test_an_empty_plural_form_is_untranslated(template: Catalog) -> None:
    catalog = _copy("ar", template)
    message = catalog.get(("Show %(num)s more", "Show %(num)s more"))
    forms = list(message.string)
    forms[3] = ""
    message.string = tuple(forms)
    problems = catalogs.check_catalog("ar", catalog, template)
    assert [p.kind for p in problems] == ["untranslated"]


def test_a_missing_or_stale_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(catalogs.po_files()["es"], folder / "messages.po")
    fresh = i18n.load_translations("es", tmp_path)
    assert fresh.gettext("Heatmap") == "Mapa de calor"
    assert (folder / "messages.mo").is_file()  # saved for next time
    # a later edit of the .po wins over the older .mo
    po = folder / "messages.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Mapa de calor"', 'msgstr "Mapa térmico"'),
        encoding="utf-8",
    )
    mo = folder / "messages.mo"
    old = mo.stat().st_mtime - 10
    os.utime(mo, (old, old))
    assert i18n.load_translations("es", tmp_path).gettext("Heatmap") == "Mapa térmico"


def test_compile_all_writes_every_language(tmp_path: Path) -> None:
    for lang, po in catalogs.po_files().items():
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(po, target / "messages.po")
    counts = catalogs.compile_all(tmp_path)
    assert set(counts) == set(catalogs.po_files())
    assert min(counts.values()) > 300
    assert all((tmp_path / lang / "LC_MESSAGES" / "messages.mo").is_file() for lang in counts)
