"""A format-2 catalogue (tracks.jsonl) is refused in one line and converted in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalogue.test_columnar import same_track
from tests.catalogue.test_index_files import legacy_save
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue
from tunelens.catalogue.upgrade import upgrade_catalogue
from tunelens.core.errors import CatalogError
from tunelens.web.http_status import http_status


def test_old_catalogue_is_refused_then_upgraded(catalogue: Catalogue, tmp_path: Path) -> None:
    built = CatalogueIndex.build(catalogue)
    old = legacy_save(built, tmp_path / "old")
    with pytest.raises(CatalogError) as err:
        CatalogueIndex.load(old)
    assert err.value.code == "catalog_outdated" and http_status(err.value) == 503
    assert f"tunelens catalog upgrade {old}" in err.value.message
    assert "\n" not in err.value.message
    meta = upgrade_catalogue(old)
    assert meta is not None and meta["version"] == 1
    assert not (old / "tracks.jsonl").exists()
    index = CatalogueIndex.load(old)
    assert index.scaler == built.scaler and all(map(same_track, index.catalogue, catalogue))
    target = built.raw_features()[3]
    assert list(index.search(target, k=5)[0]) == list(built.search(target, k=5)[0])
    assert upgrade_catalogue(old) is None  # already current
