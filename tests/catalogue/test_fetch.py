"""Known catalogue sources and their URL overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.catalogue.fetch import KNOWN_SOURCES, env_var_for, fetch_source
from tunelens.core.errors import CatalogError


def test_unknown_source_lists_known_names(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as err:
        fetch_source("spotify-1m", tmp_path)
    assert err.value.code == "unknown_source"
    assert "spotify-30k" in err.value.message
    assert env_var_for("spotify-30k") == "TUNELENS_CATALOG_URL_SPOTIFY_30K"
    assert KNOWN_SOURCES["spotify-30k"].sha256.startswith("9902920c")
