"""Adding and removing songs without a rebuild, for every index kind; compaction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue import changes
from tunelens.catalogue.changes import add_tracks, compact, remove_tracks
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue, Track
from tunelens.core.errors import CatalogError, NotFound

LOUD = {"valence": 0.99, "energy": 0.01, "danceability": 0.5}


def _nearest_ids(directory: Path, k: int = 3) -> list[str]:
    index = CatalogueIndex.load(directory)
    weights = {n: (1.0 if n in LOUD else 0.0) for n in index.feature_names}
    rows, _ = index.search(index.vector(LOUD), weights, k=k)
    return [index.catalogue[int(r)].id for r in rows]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_added_songs_are_found_and_removed_ones_never(kind: str, tmp_path: Path) -> None:
    base = random_catalogue()
    out = CatalogueIndex.build(base, kind=kind).save(tmp_path / "c")
    scaler_before = json.loads((out / "meta.json").read_text())["scaler"]
    new = Catalogue([Track(id="new-1", title="New", artist="Z", features=LOUD)])
    result = add_tracks(out, new)
    assert (result.added, result.version, result.tracks) == (1, 2, 301)
    assert _nearest_ids(out)[0] == "new-1"
    assert json.loads((out / "meta.json").read_text())["scaler"] == scaler_before
    removed = remove_tracks(out, ["new-1", base[1].id, "nope"])
    assert (removed.removed, removed.unknown, removed.tracks) == (2, ["nope"], 299)
    index = CatalogueIndex.load(out)
    assert "new-1" not in _nearest_ids(out, k=20) and index.catalogue.get(base[1].id) is None
    assert index.live_count == 299 and len(index) == 301  # rows stay: they are labels
    assert compact(out).compacted and len(CatalogueIndex.load(out)) == 299
    log = [json.loads(line)["action"] for line in (out / "changes.jsonl").read_text().splitlines()]
    assert log == ["build", "add", "remove", "compact"]


def test_same_id_replaces_and_thresholds_compact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = random_catalogue(n=100)
    out = CatalogueIndex.build(base).save(tmp_path / "c")
    changed = Track(id=base[0].id, title="Renamed", artist="A0", features=LOUD)
    result = add_tracks(out, Catalogue([changed]))
    assert result.replaced == 1 and result.tracks == 100
    assert CatalogueIndex.load(out).catalogue.by_id(base[0].id).title == "Renamed"
    monkeypatch.setattr(changes, "COMPACT_DEAD_SHARE", 0.05)
    result = remove_tracks(out, [t.id for t in list(base)[1:8]])
    assert result.compacted and len(CatalogueIndex.load(out)) == 93


def test_refusals(tmp_path: Path) -> None:
    base = random_catalogue(n=50)
    text = np.zeros((50, 4), dtype=np.float32)
    out = CatalogueIndex.build(base, text_embeddings=text, text_model_id="m").save(tmp_path / "t")
    with pytest.raises(CatalogError) as err:
        add_tracks(out, Catalogue([Track(id="x", title="x", artist="y", features=LOUD)]))
    assert err.value.code == "catalog_invalid" and "rebuild" in err.value.message
    with pytest.raises(NotFound):
        remove_tracks(out, ["nobody"])
    with pytest.raises(CatalogError) as err:
        add_tracks(tmp_path / "missing", Catalogue([]))
    assert err.value.code == "catalog_empty"
