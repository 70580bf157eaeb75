"""``tunelens catalog upgrade|add|remove`` as an operator meets them: an old catalogue stops a
command with one line naming the upgrade, the upgrade makes it usable with the same songs, and
a change prints one line with the new version (exit codes: 0 done, 1 a user error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.catalogue.helpers import random_catalogue
from tests.catalogue.test_index_files import legacy_save
from tunelens.catalogue.index import CatalogueIndex
from tunelens.cli.app import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def old_catalogue(tmp_path: Path) -> Path:
    """A catalogue in format 2 (tracks.jsonl), as every build before the columnar store wrote."""
    return legacy_save(CatalogueIndex.build(random_catalogue(n=120)), tmp_path / "old")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "p.png"
    Image.new("RGB", (64, 48), (40, 90, 200)).save(path)
    return path


def test_an_old_catalogue_names_the_upgrade_then_works_after_it(
    old_catalogue: Path, photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ask = ["recommend", str(photo), "--encoder", "colour", "--catalog", str(old_catalogue)]
    code, out, err = _run([*ask, "--json"], capsys)
    assert code == 1 and out == ""
    line = err.strip()
    assert "\n" not in line and "Traceback" not in err
    assert f"tunelens catalog upgrade {old_catalogue}" in line

    code, out, _ = _run(["catalog", "upgrade", str(old_catalogue)], capsys)
    assert code == 0 and "120 songs" in out and "version 1" in out
    code, out, _ = _run([*ask, "--json"], capsys)
    assert code == 0 and len(json.loads(out)["tracks"]) == 10
    # a second upgrade has nothing to do and says so without failing
    code, out, _ = _run(["catalog", "upgrade", str(old_catalogue)], capsys)
    assert code == 0 and out.strip()


def test_add_and_remove_print_one_line_with_the_new_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = CatalogueIndex.build(random_catalogue(n=120)).save(tmp_path / "cat")
    source = tmp_path / "new.jsonl"
    song = {"title": "Fresh", "artist": "New Band", "valence": 0.5, "energy": 0.4}
    source.write_text(json.dumps({"id": "fresh-1", **song}) + "\n", encoding="utf-8")

    code, out, _ = _run(["catalog", "add", str(catalog), str(source)], capsys)
    assert code == 0 and out.strip().startswith("added 1 song (0 replaced)")
    assert "version 2" in out and "121 songs" in out
    code, out, _ = _run(["catalog", "remove", str(catalog), "fresh-1"], capsys)
    assert code == 0 and out.strip().startswith("removed 1 song;") and "version 3" in out
    code, out, err = _run(["catalog", "remove", str(catalog), "no-such-id"], capsys)
    assert code == 1 and out == "" and "no-such-id" in err and "\n" not in err.strip()
