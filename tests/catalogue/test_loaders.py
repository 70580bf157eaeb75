"""``load_source``: files that are not catalogues raise one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalogue.helpers import TIDY_HEADER, tidy_row
from tunelens.catalogue.loaders import load_source
from tunelens.core.errors import CatalogError


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", "catalog_empty", "empty"),
        (b"   \n\n", "catalog_empty", "empty"),
        (b"\x00\x01\x02binary\x00", "catalog_invalid", "binary"),
        (b"PK\x03\x04zipdata", "catalog_invalid", "ZIP"),
        (TIDY_HEADER.encode() + b"\n", "catalog_empty", "no usable tracks"),
        (
            TIDY_HEADER.encode() + b"\n" + tidy_row("x", name="caf\xe9").encode() + b"\xe9\n",
            "catalog_invalid",
            "UTF-8",
        ),
    ],
)
def test_unreadable_files_raise_clear_errors(
    tmp_path: Path, content: bytes, code: str, words: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogError) as err:
        load_source(path)
    assert err.value.code == code
    assert words in err.value.message


def test_missing_source_is_catalog_missing(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        load_source(tmp_path / "nope.csv")
    assert err.value.code == "catalog_missing"
