"""Pulling a model through the real download code from a fake hub on loopback: the pull itself,
a cut connection resumed, a pinned revision, an offline start from the cache, a corrupted file
caught by its checksum, a graph that does not fit, and the hub's errors.

The model is a tiny random CLIP in the exact transformers.js layout; its numbers mean nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.fake_hub import FakeHub, folder_files
from tests.modelhub.conftest import REPO
from tunelens.core.errors import DownloadError, ModelUnavailable
from tunelens.core.settings import Settings
from tunelens.modelhub.cache import cached_snapshot, read_ref, snapshot_dir
from tunelens.modelhub.download import pull
from tunelens.modelhub.loader import load_encoder
from tunelens.modelhub.registry import choose
from tunelens.vision.colour import ColourEncoder
from tunelens.vision.lock import LOCK_NAME, ModelLock
from tunelens.vision.onnx_clip import ClipOnnxEncoder

pytestmark = [pytest.mark.torch, pytest.mark.slow]

INT8_VISION = "onnx/vision_model_quantized.onnx"
INT8_FILES = [
    "tokenizer.json",
    "preprocessor_config.json",
    "config.json",
    INT8_VISION,
    "onnx/text_model_quantized.onnx",
]


def _settings(**kwargs: object) -> Settings:
    return Settings(**{"model_repo": REPO, "model_precision": "int8", **kwargs})  # type: ignore[arg-type]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Bytes:
    """A PullProgress that adds up what it is told."""

    def __init__(self) -> None:
        self.files: dict[str, int | None] = {}
        self.bytes = 0
        self.skipped: list[str] = []

    def begin(self, path: str, total: int | None) -> None:
        self.files[path] = total

    def advance(self, n_bytes: int) -> None:
        self.bytes += n_bytes

    def end(self, path: str, fetched: bool) -> None:
        if not fetched:
            self.skipped.append(path)


def test_pull_fetches_locks_and_loads(hub: FakeHub, tiny_hf: Path) -> None:
    settings = _settings()
    choice = choose(settings)
    assert not choice.model.registered and choice.precision == "int8"
    progress = Bytes()
    result = pull(choice, settings.models_dir, progress=progress)

    commit = hub.repos[REPO].refs["main"]
    assert result.commit == commit
    assert result.folder == snapshot_dir(settings.models_dir, REPO, commit)
    assert sorted(result.fetched) == sorted(INT8_FILES)
    assert not (result.folder / "onnx" / "vision_model.onnx").exists()  # only int8 fetched
    lock = ModelLock.load(result.folder)
    assert lock is not None and lock.commit == commit and lock.repo == REPO
    for rel in INT8_FILES:
        original = (tiny_hf / rel).read_bytes()
        assert (result.folder / rel).read_bytes() == original
        assert lock.files[rel].sha256 == _sha(original)
    total = sum((tiny_hf / rel).stat().st_size for rel in INT8_FILES)
    assert progress.bytes == total and set(progress.files) == set(INT8_FILES)
    assert progress.files[INT8_VISION] == (tiny_hf / INT8_VISION).stat().st_size
    # the LFS graphs came from the CDN host after a redirect, as from the real hub
    assert hub.gets(_sha((tiny_hf / INT8_VISION).read_bytes()))
    assert read_ref(settings.models_dir, REPO, "main") == commit

    encoder, notices = load_encoder("clip", settings)
    assert isinstance(encoder, ClipOnnxEncoder)
    assert encoder.model_dir == result.folder and encoder.variant == "int8"
    assert encoder.layout == "transformers.js" and encoder.dim == 16
    assert not encoder.is_pretrained and any("random weights" in n for n in notices)

    # a second pull fetches nothing: every file is there with its locked size
    again = Bytes()
    second = pull(choice, settings.models_dir, progress=again)
    assert second.fetched == () and sorted(again.skipped) == sorted(INT8_FILES)


def test_resume_after_a_cut_connection(
    hub: FakeHub, tiny_hf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hf_constants

    # the client writes what it received in 10 MB chunks; the tiny graph is < 1 MB, so read it
    # in 64 KiB chunks to cut it the way a real graph is cut (after some chunks are on disk)
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    data = (tiny_hf / INT8_VISION).read_bytes()
    cut = len(data) // 2
    hub.drop_once(INT8_VISION, after_bytes=cut)
    settings = _settings()
    result = pull(choose(settings), settings.models_dir)

    assert (result.folder / INT8_VISION).read_bytes() == data
    first, second = hub.gets(_sha(data))
    assert first.range is None and second.range is not None
    start = int(second.range.removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= cut  # resumed where the written chunks ended, not started over
    lock = ModelLock.load(result.folder)
    assert lock is not None and lock.files[INT8_VISION].sha256 == _sha(data)


def test_interrupted_pull_keeps_finished_files(hub: FakeHub) -> None:
    """A pull that fails part-way leaves the finished files locked; the next one fetches only
    the rest."""
    settings = _settings()
    choice = choose(settings)
    commit = hub.repos[REPO].refs["main"]
    files = hub.repos[REPO].commits[commit]
    last = "onnx/text_model_quantized.onnx"
    held_back = files.pop(last)  # the last file is briefly unavailable
    with pytest.raises(ModelUnavailable) as info:
        pull(choice, settings.models_dir)
    assert info.value.code == "model_missing" and "not in the repository" in info.value.message
    folder = snapshot_dir(settings.models_dir, REPO, commit)
    lock = ModelLock.load(folder)
    assert lock is not None and set(lock.files) == set(INT8_FILES) - {last}
    assert cached_snapshot(settings.models_dir, choice) is None  # incomplete: not used

    files[last] = held_back
    result = pull(choice, settings.models_dir)
    assert result.fetched == (last,)
    assert cached_snapshot(settings.models_dir, choice) == folder


def test_pinned_revision(hub: FakeHub, tiny_hf: Path) -> None:
    old = hub.repos[REPO].refs["main"]
    changed = folder_files(tiny_hf)
    changed[INT8_VISION] = changed["onnx/vision_model.onnx"]  # new int8 bytes on main
    new = hub.publish(REPO, changed)
    assert new != old

    pinned = _settings(model_revision=old)
    result = pull(choose(pinned), pinned.models_dir)
    assert result.commit == old and result.folder.name == old
    assert (result.folder / INT8_VISION).read_bytes() == (tiny_hf / INT8_VISION).read_bytes()
    latest = pull(choose(_settings()), pinned.models_dir)
    assert latest.commit == new and latest.folder.name == new  # beside, not over, the pin
    assert ModelLock.load(result.folder).commit == old  # type: ignore[union-attr]
    assert read_ref(pinned.models_dir, REPO, "main") == new

    # each loads as what it was pinned to: different graphs, different model ids
    a, _ = load_encoder("clip", pinned)
    b, _ = load_encoder("clip", _settings())
    assert a.model_dir == result.folder and b.model_dir == latest.folder  # type: ignore[attr-defined]
    assert a.model_id != b.model_id

    with pytest.raises(ModelUnavailable) as info:
        pull(choose(_settings(model_revision="no-such-branch")), pinned.models_dir)
    assert info.value.code == "model_missing" and "no such revision" in info.value.message


def test_offline_start_from_the_cache(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tiny_hf: Path
) -> None:
    settings = _settings()
    pull(choose(settings), settings.models_dir)
    hub.stop()  # no hub any more, and the client is told so
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    seen = len(hub.requests)
    encoder, notices = load_encoder("auto", settings)
    assert isinstance(encoder, ClipOnnxEncoder)
    assert not any("colour" in n for n in notices)
    assert len(hub.requests) == seen
    vectors = encoder.embed_texts(["a calm lake", "a loud party"])
    assert vectors.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_auto_downloads_when_online_and_falls_back_offline(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder, notices = load_encoder("auto", _settings())
    assert isinstance(encoder, ColourEncoder)
    assert len(notices) == 1 and "HF_HUB_OFFLINE" in notices[0]
    assert "/" not in notices[0].split("`")[0]  # no file path in what /health shows
    assert hub.requests == []

    monkeypatch.delenv("HF_HUB_OFFLINE")
    encoder, notices = load_encoder("auto", _settings())
    assert isinstance(encoder, ClipOnnxEncoder)  # pulled on first use
    assert hub.requests and not any("colour" in n for n in notices)


def test_a_corrupted_file_is_caught_by_its_checksum(hub: FakeHub) -> None:
    settings = _settings()
    result = pull(choose(settings), settings.models_dir)
    graph = result.folder / INT8_VISION
    raw = bytearray(graph.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, one byte flipped
    graph.write_bytes(bytes(raw))

    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", settings)
    assert info.value.code == "model_corrupt"
    assert str(graph) in info.value.message and "sha256" in info.value.message
    encoder, notices = load_encoder("auto", settings)
    assert isinstance(encoder, ColourEncoder)
    assert "model_corrupt" in notices[0] and "--force" in notices[0]

    graph.write_bytes(bytes(raw[:100]))  # truncated: caught by size first
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", settings)
    assert info.value.code == "model_corrupt" and "bytes" in info.value.message

    repaired = pull(choose(settings), settings.models_dir, force=True)
    assert repaired.fetched  # everything fetched again and re-locked
    encoder, _ = load_encoder("clip", settings)
    assert isinstance(encoder, ClipOnnxEncoder)


def test_a_graph_with_unexpected_tensor_names_is_refused(hub: FakeHub, tiny_hf: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(tiny_hf / INT8_VISION))
    renames = {"image_embeds": "pooled", "pixel_values": "image"}
    for node in model.graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for tensor in [*model.graph.input, *model.graph.output]:
        tensor.name = renames.get(tensor.name, tensor.name)
    files = folder_files(tiny_hf)
    files[INT8_VISION] = model.SerializeToString()
    hub.publish("tiny/odd", files)

    settings = Settings(model_repo="tiny/odd", model_precision="int8")
    pull(choose(settings), settings.models_dir)  # the download itself is fine
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", settings)
    message = info.value.message
    assert info.value.code == "model_corrupt"
    assert "image float [batch_size, 3, 224, 224]" in message  # what was found …
    assert "pooled float [batch_size, 16]" in message and "last_hidden_state" in message
    assert "image_embeds" in message  # … and what was needed
    assert info.value.details["outputs"] == ["pooled", "last_hidden_state"]


def test_hub_errors_are_clear(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        pull(choose(Settings(model_repo="nobody/nothing")), tmp_path)
    assert info.value.code == "model_missing" and "does not exist" in info.value.message
    with pytest.raises(ModelUnavailable) as info:  # the tiny repo has no fp16 graphs
        pull(choose(_settings(model_precision="fp16")), tmp_path)
    assert "not in the repository" in info.value.message
    assert "vision_model_fp16.onnx" in info.value.message

    hub.stop()
    with pytest.raises(DownloadError) as failed:
        pull(choose(_settings()), tmp_path)
    assert failed.value.code == "download_failed" and REPO in failed.value.message
    assert "Traceback" not in failed.value.message


def test_a_damaged_transfer_is_refused(hub: FakeHub, tiny_hf: Path, tmp_path: Path) -> None:
    """The hub's sha256 (X-Linked-Etag) is checked on arrival: bytes that differ never get
    locked."""
    data = (tiny_hf / INT8_VISION).read_bytes()
    sha = _sha(data)
    hub._blobs[sha] = data[:-1] + bytes([data[-1] ^ 0xFF])  # the CDN serves other bytes
    settings = _settings()
    with pytest.raises(DownloadError) as info:
        pull(choose(settings), tmp_path)
    assert info.value.code == "download_corrupt" and INT8_VISION in info.value.message
    commit = hub.repos[REPO].refs["main"]
    folder = snapshot_dir(tmp_path, REPO, commit)
    assert not (folder / INT8_VISION).exists()
    lock = ModelLock.load(folder)
    assert lock is None or INT8_VISION not in lock.files


def test_a_model_folder_copied_elsewhere_still_verifies(hub: FakeHub, tmp_path: Path) -> None:
    """TUNELENS_MODEL_DIR at a pulled folder: the lock travels with it and is checked."""
    settings = _settings()
    result = pull(choose(settings), settings.models_dir)
    copy = Path(shutil.copytree(result.folder, tmp_path / "copy"))
    assert (copy / LOCK_NAME).is_file()
    encoder, _ = load_encoder("clip", Settings(model_dir=copy, model_precision="int8"))
    assert isinstance(encoder, ClipOnnxEncoder)
    (copy / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelUnavailable) as info:
        load_encoder("clip", Settings(model_dir=copy, model_precision="int8"))
    assert info.value.code == "model_corrupt" and "tokenizer.json" in info.value.message
    with pytest.raises(ModelUnavailable) as info:  # a precision the folder does not have
        load_encoder("clip", Settings(model_dir=copy, model_precision="fp32"))
    assert info.value.code == "model_missing" and "onnx/vision_model.onnx" in info.value.message
