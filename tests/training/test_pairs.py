"""Paired data validation, row by row: every unusable row is reported with a stable code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.feature_synth import picture_for, write_synthetic_set
from tests.labelled_pictures import settings_for
from tunelens.catalogue.index import CatalogueIndex
from tunelens.core.errors import InvalidRequest
from tunelens.training.pairs import PairSources, build_pairs
from tunelens.training.run import TrainingRun
from tunelens.vision.colour import ColourEncoder


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, catalog, _ = write_synthetic_set(
        tmp_path_factory.mktemp("synthetic"), tracks=300, paired=200
    )
    return catalog


def test_pairs_are_validated_row_by_row(tmp_path: Path, catalog: Path) -> None:
    index = CatalogueIndex.load(catalog)
    Image.fromarray(picture_for(0.8, 0.2, np.random.default_rng(0))).save(tmp_path / "a.png")
    (tmp_path / "notes.png").write_text("not a picture")
    full = "0.5,0.5,0.6,120,-8,0.3,0.1,1,0.05,0.2"
    cols = (
        "valence,energy,danceability,tempo,loudness,acousticness,instrumentalness,mode,"
        "speechiness,liveness"
    )
    (tmp_path / "pairs.csv").write_text(
        f"image,track_id,weight,emotion,{cols}\n"
        "a.png,t0001,,,,,,,,,,,,\n"  # line 2: fine
        "missing.png,t0001,,,,,,,,,,,,\n"  # line 3: no such picture
        "a.png,nope,,,,,,,,,,,,\n"  # line 4: unknown track
        "a.png,t0001,,,2.0,,,,,,,,,\n"  # line 5: valence out of range
        "a.png,t0001,-1,,,,,,,,,,,\n"  # line 6: bad weight
        "a.png,,,,,,,,,,,,,\n"  # line 7: no target
        f"a.png,,2,awe,{full}\n"  # line 8: explicit features, emotion given
        "notes.png,t0002,,,,,,,,,,,,\n"  # line 9: not a picture
        "a.png,,,,0.5,,,,,,,,,\n"  # line 10: explicit but incomplete
        ",t0001,,,,,,,,,,,,\n"  # line 11: empty image
        "a.png,t0001,,happy,,,,,,,,,,\n"  # line 12: unknown emotion
    )
    run = TrainingRun(settings_for(tmp_path))
    pairs = build_pairs(
        PairSources(pairs_csv=tmp_path / "pairs.csv"),
        encoder=ColourEncoder(),
        catalogue=index.catalogue,
        run=run,
    )
    assert pairs.rows == ["line 2", "line 8"]
    assert len(pairs.image_sha256) == 1  # one picture, read once
    assert pairs.emotions[1] == "awe" and pairs.weights.tolist() == [1.0, 2.0]
    assert pairs.targets[1][0] == pytest.approx(0.5)
    codes = {p["row"]: p["code"] for p in pairs.problems}
    assert codes == {
        "line 3": "image_missing",
        "line 4": "unknown_track",
        "line 5": "bad_value",
        "line 6": "bad_value",
        "line 7": "no_target",
        "line 9": "image_invalid",
        "line 10": "missing_features",
        "line 11": "image_missing",
        "line 12": "bad_value",
    }
    assert [p["row"] for p in pairs.problems][:3] == ["line 3", "line 4", "line 5"]
    (tmp_path / "bad.csv").write_text("picture,track\nx,y\n")
    with pytest.raises(InvalidRequest) as info:
        build_pairs(
            PairSources(pairs_csv=tmp_path / "bad.csv"),
            encoder=ColourEncoder(),
            catalogue=None,
            run=run,
        )
    assert info.value.code == "pairs_invalid" and "'image' column" in info.value.message
