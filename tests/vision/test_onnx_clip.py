"""CLIP encoders on a tiny random CLIP: export, ONNX Runtime vs PyTorch, loading, errors.

The tiny model (tests/tiny_clip.py) is built and exported once per session. Its weights are
random, so agreement numbers here measure the export and runtime, never quality.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.torch

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_clip import exported_tiny_clip  # noqa: E402
from tunelens.core.digest import sha256_file  # noqa: E402
from tunelens.core.errors import DownloadError, ModelUnavailable  # noqa: E402
from tunelens.core.settings import Settings  # noqa: E402
from tunelens.modelhub.export import export_clip  # noqa: E402
from tunelens.modelhub.loader import load_encoder, resolve_model_dir  # noqa: E402
from tunelens.modelhub.registry import registry  # noqa: E402
from tunelens.vision.base import Encoder  # noqa: E402
from tunelens.vision.layout import (  # noqa: E402
    MANIFEST_NAME,
    ExportManifest,
    compute_model_id,
)
from tunelens.vision.onnx_clip import ClipOnnxEncoder  # noqa: E402

TEXTS = [
    "a photo of a cat",
    "A  Sad   RAINY street\tin autumn",
    "Zebra QUIZ über 123!",
    "",
    "it's a bright and joyful morning, isn't it?",
    "mountains " * 60,  # longer than the 77-token context: truncated, end token kept
]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(axis=1))


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(checkpoint dir, export dir) of the tiny random CLIP, exported once."""
    with pytest.MonkeyPatch.context() as mp:  # session fixtures run before conftest's
        mp.setenv("HF_HUB_OFFLINE", "1")
        return exported_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def torch_model(tiny: tuple[Path, Path]) -> Any:
    # transformers' default attention (sdpa), not the eager one the exporter traces
    return transformers.CLIPModel.from_pretrained(tiny[0]).eval()


@pytest.fixture(scope="session")
def hf_tokenizer(tiny: tuple[Path, Path]) -> Any:
    return transformers.AutoTokenizer.from_pretrained(tiny[0])


@pytest.fixture(scope="session")
def encoder(tiny: tuple[Path, Path]) -> ClipOnnxEncoder:
    return ClipOnnxEncoder.from_dir(tiny[1])


@pytest.fixture(scope="session")
def images() -> list[Any]:
    imaging = pytest.importorskip("tunelens.vision.imaging")
    rng = np.random.default_rng(0)
    shapes = [(224, 224), (240, 320), (300, 200), (64, 96), (500, 260)]
    out = []
    for h, w in shapes:
        # smooth gradients plus noise, so resizing has something real to do
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], axis=-1) * 200
        pixels = np.clip(base + rng.normal(0, 25, size=(h, w, 3)), 0, 255).astype(np.uint8)
        out.append(imaging.LoadedImage.from_array(pixels))
    return out


@pytest.fixture
def model_copy(tiny: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the export to break."""
    return Path(shutil.copytree(tiny[1], tmp_path / "model"))


def _torch_image_embeds(model: Any, pixels: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = model.get_image_features(pixel_values=torch.from_numpy(pixels))
    return np.asarray(out.pooler_output.numpy())


def _torch_text_embeds(model: Any, tokenizer: Any, texts: list[str]) -> np.ndarray:
    enc = tokenizer(texts, padding=True, truncation=True, max_length=77, return_tensors="pt")
    with torch.no_grad():
        out = model.get_text_features(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
        )
    return np.asarray(out.pooler_output.numpy())


# ---------------------------------------------------------------------------- export
def test_manifest_describes_the_export(tiny: tuple[Path, Path], torch_model: Any) -> None:
    out = tiny[1]
    manifest = ExportManifest.load(out)
    assert manifest.format_version == 1
    assert manifest.pretrained is False
    assert (manifest.dim, manifest.image_size, manifest.context_length) == (16, 224, 77)
    assert manifest.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))
    assert manifest.logit_scale == pytest.approx(float(torch_model.logit_scale.detach().exp()))
    assert manifest.eos_id == manifest.pad_id == torch_model.config.text_config.eos_token_id
    assert set(manifest.files) == {"image", "text", "image.int8", "text.int8", "tokenizer"}
    for entry in manifest.files.values():
        assert sha256_file(out / entry.path) == entry.sha256
        assert (out / entry.path).stat().st_size == entry.n_bytes
    assert manifest.model_id == compute_model_id(out / "image.onnx", out / "text.onnx")
    assert len(manifest.model_id) == 16


def test_export_needs_torch_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: tuple[Path, Path]
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import now raises ImportError
    with pytest.raises(ModelUnavailable) as info:
        export_clip(tiny[0], tmp_path / "out")
    assert info.value.code == "torch_missing"
    assert "tunelens[torch]" in info.value.message


# ---------------------------------------------------------------------------- agreement
def test_image_embeddings_match_pytorch(
    encoder: ClipOnnxEncoder, torch_model: Any, images: list[Any]
) -> None:
    from tunelens.vision.imaging import to_model_input

    got = encoder.embed_images(images)
    assert got.shape == (5, 16) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    pixels = to_model_input(images, size=224, mean=encoder.mean, std=encoder.std)
    ref = _torch_image_embeds(torch_model, pixels)
    cos = _cos(got, ref)
    print(
        f"\nimage fp32 ONNX vs torch: min cos {cos.min():.8f}, "
        f"max |Δ| {np.abs(got - ref / np.linalg.norm(ref, axis=1, keepdims=True)).max():.2e}"
    )
    assert cos.min() > 0.9999


def test_text_embeddings_match_pytorch(
    encoder: ClipOnnxEncoder, torch_model: Any, hf_tokenizer: Any
) -> None:
    got = encoder.embed_texts(TEXTS)
    assert got.shape == (len(TEXTS), 16) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    ref = _torch_text_embeds(torch_model, hf_tokenizer, TEXTS)
    cos = _cos(got, ref)
    print(f"\ntext fp32 ONNX vs torch: min cos {cos.min():.8f}")
    assert cos.min() > 0.9999


def test_tokenizer_ids_equal_transformers(encoder: ClipOnnxEncoder, hf_tokenizer: Any) -> None:
    ids, mask = encoder.tokenize(TEXTS)
    ref = hf_tokenizer(TEXTS, padding=True, truncation=True, max_length=77)
    assert ids.tolist() == ref["input_ids"]
    assert mask.tolist() == ref["attention_mask"]
    assert ids.shape[1] == 77 and ids[-1, -1] == encoder.manifest.eos_id  # truncated, eos kept
    short = ["a photo of a cat", "x"]
    ids, mask = encoder.tokenize(short)
    ref = hf_tokenizer(short, padding=True)
    assert ids.tolist() == ref["input_ids"] and mask.tolist() == ref["attention_mask"]
    assert ids.shape[1] < 77  # padded to the longest text only


def test_padding_to_longest_equals_padding_to_context(encoder: ClipOnnxEncoder) -> None:
    session, tokenizer = encoder._text()
    short = ["a photo of a cat", "rain"]
    outs = []
    for full in (False, True):
        ids, mask = tokenizer.encode(short, pad_to_context=full)
        assert ids.shape[1] == 77 if full else ids.shape[1] < 77
        outs.append(session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-5)


def test_batch_of_one_equals_batch_of_five(encoder: ClipOnnxEncoder, images: list[Any]) -> None:
    batch = encoder.embed_images(images)
    singles = np.concatenate([encoder.embed_images([img]) for img in images])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    texts = TEXTS[:5]
    batch_t = encoder.embed_texts(texts)
    singles_t = np.concatenate([encoder.embed_texts([t]) for t in texts])
    np.testing.assert_allclose(batch_t, singles_t, atol=1e-5)


def test_chunking_gives_the_same_rows(encoder: ClipOnnxEncoder, images: list[Any]) -> None:
    small = ClipOnnxEncoder.from_dir(encoder.model_dir)
    small.batch_size, small.text_batch_size = 2, 2
    np.testing.assert_allclose(small.embed_images(images), encoder.embed_images(images), atol=1e-5)
    np.testing.assert_allclose(small.embed_texts(TEXTS), encoder.embed_texts(TEXTS), atol=1e-5)


def test_int8_variant_stays_close(
    tiny: tuple[Path, Path], encoder: ClipOnnxEncoder, images: list[Any]
) -> None:
    q = ClipOnnxEncoder.from_dir(tiny[1], variant="int8")
    assert q.model_id == f"{encoder.model_id}-int8" and q.name.endswith("-int8")
    img_cos = _cos(q.embed_images(images), encoder.embed_images(images))
    txt_cos = _cos(q.embed_texts(TEXTS), encoder.embed_texts(TEXTS))
    print(f"\nint8 vs fp32: image min cos {img_cos.min():.5f}, text min cos {txt_cos.min():.5f}")
    assert img_cos.min() > 0.9 and txt_cos.min() > 0.9


def test_torch_encoder_matches_onnx(
    tiny: tuple[Path, Path], encoder: ClipOnnxEncoder, images: list[Any]
) -> None:
    from tunelens.vision.torch_clip import ClipTorchEncoder

    baseline = ClipTorchEncoder.from_checkpoint(tiny[0], pretrained=False)
    assert isinstance(baseline, Encoder)
    assert (baseline.dim, baseline.is_pretrained, baseline.supports_text) == (16, False, True)
    assert baseline.logit_scale == pytest.approx(encoder.logit_scale)
    assert _cos(baseline.embed_images(images), encoder.embed_images(images)).min() > 0.9999
    assert _cos(baseline.embed_texts(TEXTS), encoder.embed_texts(TEXTS)).min() > 0.9999


def test_encoder_protocol_and_edges(tiny: tuple[Path, Path]) -> None:
    fresh = ClipOnnxEncoder.from_dir(tiny[1])
    assert isinstance(fresh, Encoder)
    assert fresh.name == "clip-onnx:tiny-clip" and fresh.dim == 16
    assert fresh.supports_text and not fresh.is_pretrained
    assert fresh.embed_images([]).shape == (0, 16)
    assert fresh._text_session is None  # the image path never loads the text tower
    assert fresh.embed_texts([]).shape == (0, 16)
    with pytest.raises(TypeError):
        fresh.embed_texts("one string")


# ---------------------------------------------------------------------------- loading
def test_load_encoder_clip_from_model_dir(tiny: tuple[Path, Path]) -> None:
    settings = Settings(model_dir=tiny[1], allow_download=False)
    enc, notices = load_encoder("clip", settings)
    assert isinstance(enc, ClipOnnxEncoder)
    assert any("random weights" in n for n in notices)
    enc8, _ = load_encoder("clip", Settings(model_dir=tiny[1], model_variant="int8"))
    assert isinstance(enc8, ClipOnnxEncoder) and enc8.variant == "int8"


def test_missing_dir_is_model_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(tmp_path / "nope")
    assert info.value.code == "model_missing" and "nope" in info.value.message
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", Settings(model_dir=tmp_path / "nope"))
    assert info.value.code == "model_missing" and "nope" in info.value.message


def test_missing_manifest_is_model_missing(model_copy: Path) -> None:
    (model_copy / MANIFEST_NAME).unlink()
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy)
    assert info.value.code == "model_missing" and MANIFEST_NAME in info.value.message


def test_invalid_manifest_is_model_corrupt(model_copy: Path) -> None:
    path = model_copy / MANIFEST_NAME
    data = json.loads(path.read_text())
    path.write_text("{not json")
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy)
    assert info.value.code == "model_corrupt"
    for breakage in ({"dim": None}, {"format_version": 99}):
        path.write_text(json.dumps({**data, **breakage}))
        with pytest.raises(ModelUnavailable) as info:
            ClipOnnxEncoder.from_dir(model_copy)
        assert info.value.code == "model_corrupt" and str(path) in info.value.message
    del data["files"]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy)
    assert info.value.code == "model_corrupt" and "files" in info.value.message


def test_truncated_image_onnx_is_model_corrupt(model_copy: Path) -> None:
    image = model_copy / "image.onnx"
    image.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy)
    assert info.value.code == "model_corrupt" and str(image) in info.value.message
    # the same truncation with a manifest that agrees on the size reaches ONNX Runtime
    path = model_copy / MANIFEST_NAME
    data = json.loads(path.read_text())
    data["files"]["image"]["n_bytes"] = image.stat().st_size
    path.write_text(json.dumps(data))
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy)
    assert info.value.code == "model_corrupt" and str(image) in info.value.message


def test_corrupt_text_onnx_fails_at_first_text_or_with_verify(model_copy: Path) -> None:
    text = model_copy / "text.onnx"
    raw = bytearray(text.read_bytes())
    raw[: len(raw) // 2] = b"\0" * (len(raw) // 2)  # same size, garbage inside
    text.write_bytes(bytes(raw))
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy, verify=True)
    assert info.value.code == "model_corrupt" and "sha256" in info.value.message
    lazy = ClipOnnxEncoder.from_dir(model_copy)  # images still work
    with pytest.raises(ModelUnavailable) as info:
        lazy.embed_texts(["a cat"])
    assert info.value.code == "model_corrupt" and str(text) in info.value.message


def test_missing_variant_file_is_model_missing(model_copy: Path) -> None:
    (model_copy / "text.int8.onnx").unlink()
    assert ClipOnnxEncoder.from_dir(model_copy).variant == "fp32"
    with pytest.raises(ModelUnavailable) as info:
        ClipOnnxEncoder.from_dir(model_copy, variant="int8")
    assert info.value.code == "model_missing" and "text.int8.onnx" in info.value.message


# ---------------------------------------------------------------------------- download / auto
def test_explicit_model_dir_wins(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    assert resolve_model_dir(Settings(model_dir=tiny[1])) == (tiny[1], None)


def test_offline_clip_fails_fast_and_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(allow_download=True)
    start = time.perf_counter()
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", settings)
    assert time.perf_counter() - start < 2
    assert info.value.code == "model_missing"
    assert "HF_HUB_OFFLINE" in info.value.message and registry().default.repo in info.value.message


def test_network_failure_is_download_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub that refuses connections gives a DownloadError, not an HTTP traceback."""
    import huggingface_hub.constants as hf_constants

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    settings = Settings(allow_download=True)
    start = time.perf_counter()
    with pytest.raises((DownloadError, ModelUnavailable)) as info:
        resolve_model_dir(settings)
    assert time.perf_counter() - start < 10
    assert isinstance(info.value, DownloadError), info.value.message
    assert info.value.code == "download_failed"
    assert registry().default.repo in info.value.message and "Traceback" not in info.value.message


def test_auto_falls_back_to_colour_with_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    colour = pytest.importorskip("tunelens.vision.colour")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc, notices = load_encoder("auto", Settings(allow_download=True))
    assert isinstance(enc, colour.ColourEncoder)
    assert len(notices) == 1
    assert "weight-free colour encoder" in notices[0] and "HF_HUB_OFFLINE" in notices[0]
    enc, notices = load_encoder("colour", Settings())
    assert isinstance(enc, colour.ColourEncoder) and notices == []


def test_auto_uses_clip_when_present(tiny: tuple[Path, Path]) -> None:
    enc, notices = load_encoder("auto", Settings(model_dir=tiny[1]))
    assert isinstance(enc, ClipOnnxEncoder)
    assert notices and "random weights" in notices[0]
