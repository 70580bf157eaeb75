"""``tunelens models`` end to end, and a folder in the exact Xenova/clip-vit-base-patch32 layout
(tiny random weights) driving the whole request: reading, context text, song-text similarity,
"more like this". Random weights: this checks plumbing, never the quality of readings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, SPOTIFY_CSV, require_shared
from tests.fake_hub import FakeHub, folder_files, running_hub
from tests.tiny_clip import tiny_hf_layout
from tunelens.cli.app import main
from tunelens.core.settings import Settings, get_settings
from tunelens.modelhub.registry import registry
from tunelens.pipeline import RecommendOptions, build_pipeline
from tunelens.vision.imaging import load_image

PHOTO = "beach_dune_grass_sea_01.jpg"
REAL_REPOS = {
    "Xenova/clip-vit-base-patch32",
    "Xenova/mobileclip_s1",
    "Xenova/mobileclip_s2",
    "Xenova/mobileclip_b",
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch", reason="building the tiny model needs the torch extra")
    pytest.importorskip("transformers", reason="building the tiny model needs the torch extra")
    return tiny_hf_layout(tmp_path_factory.getbasetemp() / "tiny-hf")


@pytest.fixture
def hub(tiny_hf: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    with running_hub() as server:
        server.publish("tiny/clip", folder_files(tiny_hf))
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server


def test_models_list_names_the_real_repositories(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "list", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert {m["repo"] for m in data["models"]} == REAL_REPOS
    names = {m["name"] for m in data["models"]}
    assert data["default"]["model"] in names and data["default"]["precision"] == "int8-local"
    assert all(m["pulled"] == [] for m in data["models"])  # nothing in a fresh cache
    code, out, _ = run(["models", "list"], capsys)
    assert code == 0 and "mobileclip-s1" in out and "(default)" in out


@pytest.mark.torch
@pytest.mark.slow
def test_models_pull_and_info(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["models", "pull", "tiny/clip", "--precision", "int8"], capsys)
    assert code == 0, err
    commit = hub.repos["tiny/clip"].refs["main"]
    assert commit in out and "16-d embeddings" in out and "fetched: 5 file(s)" in out
    code, out, err = run(["models", "pull", "tiny/clip", "--precision", "int8"], capsys)
    assert code == 0 and "fetched: 0 file(s)" in out and "already pulled" in err

    monkeypatch.setenv("TUNELENS_MODEL_REPO", "tiny/clip")
    monkeypatch.setenv("TUNELENS_MODEL_PRECISION", "int8")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # what follows uses the cache only
    get_settings.cache_clear()
    code, out, err = run(["models", "info", "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["encoder"] == "clip-onnx:clip-int8" and info["layout"] == "transformers.js"
    assert info["registry"]["repo"] == "tiny/clip" and info["registry"]["precision"] == "int8"
    assert info["preprocessing"].startswith("short side 224 (bicubic)")
    assert any("random weights" in n for n in info["notices"])

    code, _, err = run(["models", "pull", "vit-huge"], capsys)
    assert code == 1 and "No model 'vit-huge'" in err and "Traceback" not in err


@pytest.mark.torch
@pytest.mark.slow
def test_the_default_model_is_pulled_at_its_pinned_commit_and_used_offline(
    hub: FakeHub,
    tiny_hf: Path,
    spotify_catalog: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The registry default's own repository, file names and pinned commit, served by the
    fake hub with the tiny model's bytes: `models pull` with no name, then `--encoder auto`
    offline takes it from the cache."""
    default = registry().default
    hub.publish(default.repo, folder_files(tiny_hf), ref=None, commit=default.revision)
    code, out, err = run(["models", "pull"], capsys)
    assert code == 0, err
    assert f"{default.name} {registry().default_precision}" in out and default.revision in out
    # the default's image graph is quantised here from the downloaded fp32 one
    assert "made here: onnx/vision_model_int8_local.onnx" in out
    data = json.loads(run(["models", "list", "--json"], capsys)[1])
    pulled = {m["name"]: m["pulled"] for m in data["models"]}
    assert pulled[default.name] == [registry().default_precision]

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photo = require_shared(PHOTOS_DIR / PHOTO)
    argv = ["recommend", str(photo), "--json", "--catalog", str(spotify_catalog), "--top", "3"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    encoder = json.loads(out)["reading"]["encoder"]
    assert encoder["fallback"] is False and encoder["name"].startswith("clip-onnx:")


@pytest.mark.torch
@pytest.mark.slow
def test_a_transformers_js_folder_drives_the_whole_request(
    tiny_hf: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's check: the folder as TUNELENS_MODEL_DIR gives a CLIP reading (no fallback)
    with 10 songs; the catalogue's song texts are embedded by the same model."""
    photo = require_shared(PHOTOS_DIR / PHOTO)
    rows = require_shared(SPOTIFY_CSV).read_text(encoding="utf-8").splitlines(keepends=True)
    csv = tmp_path / "songs.csv"
    csv.write_text("".join(rows[:1501]), encoding="utf-8")
    monkeypatch.setenv("TUNELENS_MODEL_DIR", str(tiny_hf))
    catalog = tmp_path / "catalog"
    code, _, err = run(
        ["catalog", "build", str(csv), "-o", str(catalog), "--encoder", "clip"], capsys
    )
    assert code == 0, err

    argv = ["recommend", str(photo), "--encoder", "clip", "--json", "--catalog", str(catalog)]
    code, out, err = run([*argv, "--context", "a rainy night in the city"], capsys)
    assert code == 0, err
    result = json.loads(out)
    encoder = result["reading"]["encoder"]
    assert encoder["fallback"] is False and encoder["name"] == "clip-onnx:tiny-hf-clip-default"
    assert encoder["pretrained"] is False
    assert any("random weights" in n for n in result["notices"])
    assert len(result["tracks"]) == 10
    assert all("text" in t["parts"] for t in result["tracks"])  # song-text similarity on
    assert result["reading"]["scenes"]  # zero-shot scene tags from the text tower

    settings = Settings(model_dir=tiny_hf, catalog_dir=catalog)
    pipeline = build_pipeline(settings, encoder="clip")
    [rec] = pipeline.recommend([load_image(photo)], RecommendOptions(k=5))
    seed = rec.tracks[0].track.id
    similar = pipeline.similar(seed, RecommendOptions(k=5), reading=rec.reading, target=rec.target)
    assert len(similar.tracks) == 5 and seed not in {t.track.id for t in similar.tracks}
