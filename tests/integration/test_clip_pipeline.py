"""The whole path with a CLIP encoder: tiny random CLIP exported to ONNX, loaded the way real
weights are (TUNELENS_MODEL_DIR), catalogue built with song-text embeddings, recommendations.

The weights are random, so this checks plumbing (shapes, caches, notices, text similarity in
the score), never the quality of the readings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, SPOTIFY_CSV, require_shared
from tests.tiny_clip import exported_tiny_clip
from tunelens.cli.app import main

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return exported_tiny_clip(tmp_path_factory.mktemp("tiny-clip-e2e"))[1]


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    """The first 2,000 rows of the shared CSV: enough songs, fast text embedding."""
    require_shared(SPOTIFY_CSV)
    lines = SPOTIFY_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[:2001]
    out = tmp_path / "songs.csv"
    out.write_text("".join(lines), encoding="utf-8")
    return out


def test_clip_catalogue_and_recommendation(
    tiny_export: Path,
    small_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TUNELENS_MODEL_DIR", str(tiny_export))
    catalog = tmp_path / "catalog"
    assert main(["catalog", "build", str(small_csv), "-o", str(catalog), "--encoder", "clip"]) == 0
    capsys.readouterr()
    assert main(["catalog", "info", str(catalog), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["text_model_id"]

    photo = require_shared(PHOTOS_DIR / "beach_dune_grass_sea_01.jpg")
    code = main(["recommend", str(photo), "--encoder", "clip", "--json", "--catalog", str(catalog)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["reading"]["encoder"]["name"].startswith("clip-onnx")
    assert result["reading"]["encoder"]["pretrained"] is False
    assert any("random weights" in n for n in result["notices"])
    assert len(result["reading"]["scenes"]) >= 1
    assert len(result["tracks"]) == 10
    assert all("text" in t["parts"] for t in result["tracks"])

    # the head matrices were cached on disk, keyed by the model id
    cache = Path(str(tmp_path)) / "tunelens-home" / "cache" / "heads"
    assert len(list(cache.glob("*.npz"))) == 3

    # a colour-built catalogue with a CLIP encoder: works, and says text similarity is off
    plain = tmp_path / "plain"
    assert main(["catalog", "build", str(small_csv), "-o", str(plain)]) == 0
    capsys.readouterr()
    code = main(["recommend", str(photo), "--encoder", "clip", "--json", "--catalog", str(plain)])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert any("text similarity is off" in n for n in result["notices"])
    assert all("text" not in t["parts"] for t in result["tracks"])


def test_clip_requested_without_weights_is_a_clear_error(
    spotify_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = require_shared(PHOTOS_DIR / "beach_dune_grass_sea_01.jpg")
    code = main(["recommend", str(photo), "--encoder", "clip", "--catalog", str(spotify_catalog)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and err.strip()
