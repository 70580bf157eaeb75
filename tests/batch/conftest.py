"""Fixtures of the batch unit tests: a small synthetic catalogue and a folder of photos the
colour encoder reads in milliseconds, with one file that is not a photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.feature_synth import picture_for, synthetic_tracks
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue


@pytest.fixture(scope="session")
def tiny_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch-unit") / "catalog"
    CatalogueIndex.build(Catalogue(synthetic_tracks(60, seed=1))).save(folder)
    return folder


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """``a.png``, ``b.png``, ``sub/c.png`` (pictures) and ``broken.jpg`` (text)."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, valence in (("a.png", 0.2), ("b.png", 0.8), ("sub/c.png", 0.5)):
        Image.fromarray(picture_for(valence, 0.5, rng)).save(folder / name)
    (folder / "broken.jpg").write_text("not a photo")
    return folder
