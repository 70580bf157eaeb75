"""The lock file: written once per file, read back, and every check it makes on load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.layout import FileEntry
from tunelens.vision.lock import LOCK_NAME, LOCK_VERSION, DerivedEntry, ModelLock


def _entry(folder: Path, rel: str, data: bytes) -> FileEntry:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FileEntry(rel, hashlib.sha256(data).hexdigest(), len(data))


def test_round_trip_and_first_checksum_wins(tmp_path: Path) -> None:
    first = _entry(tmp_path, "onnx/a.onnx", b"graph bytes")
    lock = ModelLock("m", "o/m", "main", "c" * 40).with_files([first])
    lock.write(tmp_path)
    loaded = ModelLock.load(tmp_path)
    assert loaded == lock and loaded.version == LOCK_VERSION
    later = FileEntry("onnx/a.onnx", "f" * 64, 3)
    assert lock.with_files([later]).files["onnx/a.onnx"] == first
    data = json.loads((tmp_path / LOCK_NAME).read_text())
    assert data["files"]["onnx/a.onnx"] == {"sha256": first.sha256, "n_bytes": first.n_bytes}


def test_a_made_file_is_recorded_with_its_recipe(tmp_path: Path) -> None:
    source = _entry(tmp_path, "onnx/v.onnx", b"fp32 graph")
    made = _entry(tmp_path, "onnx/v_int8_local.onnx", b"int8 graph")
    how = DerivedEntry("onnx/v.onnx", source.sha256, "dynamic-int8-per-channel", "ort 1")
    lock = ModelLock("m", "o/m", "main", "c" * 40).with_files([source]).with_derived(made, how)
    lock.write(tmp_path)
    loaded = ModelLock.load(tmp_path)
    assert loaded == lock and loaded.derived["onnx/v_int8_local.onnx"] == how
    assert loaded.verify(tmp_path, ["onnx/v_int8_local.onnx"])  # checked like a download
    # making it again (another ONNX Runtime) replaces the entry, unlike a downloaded file
    again = _entry(tmp_path, "onnx/v_int8_local.onnx", b"other int8 graph")
    assert lock.with_derived(again, how).files[again.path] == again
    # a lock written before derived files existed still reads
    data = json.loads((tmp_path / LOCK_NAME).read_text())
    del data["derived"]
    (tmp_path / LOCK_NAME).write_text(json.dumps(data))
    old = ModelLock.load(tmp_path)
    assert old is not None and old.derived == {}


def test_verify_checks_size_then_sha256(tmp_path: Path) -> None:
    entry = _entry(tmp_path, "onnx/a.onnx", b"graph bytes")
    extra = _entry(tmp_path, "extra.json", b"{}")
    lock = ModelLock("m", "o/m", "main", "c" * 40).with_files([entry])
    digests = lock.verify(tmp_path, ["onnx/a.onnx", "extra.json"])
    assert digests == {"onnx/a.onnx": entry.sha256, "extra.json": extra.sha256}

    (tmp_path / "onnx/a.onnx").write_bytes(b"graph BYTES")  # same size, other bytes
    with pytest.raises(ModelUnavailable) as info:
        lock.verify(tmp_path, ["onnx/a.onnx"])
    assert info.value.code == "model_corrupt" and "sha256" in info.value.message
    assert "onnx/a.onnx" in info.value.message

    (tmp_path / "onnx/a.onnx").write_bytes(b"graph")
    with pytest.raises(ModelUnavailable) as info:
        lock.verify(tmp_path, ["onnx/a.onnx"])
    assert info.value.code == "model_corrupt" and "5 bytes" in info.value.message

    (tmp_path / "onnx/a.onnx").unlink()
    with pytest.raises(ModelUnavailable) as info:
        lock.verify(tmp_path, ["onnx/a.onnx"])
    assert info.value.code == "model_missing"


def test_unreadable_or_newer_locks_are_refused(tmp_path: Path) -> None:
    assert ModelLock.load(tmp_path) is None
    (tmp_path / LOCK_NAME).write_text("{not json")
    with pytest.raises(ModelUnavailable) as info:
        ModelLock.load(tmp_path)
    assert info.value.code == "model_corrupt" and LOCK_NAME in info.value.message
    newer = ModelLock("m", "o/m", "main", "c" * 40).to_dict() | {"version": LOCK_VERSION + 1}
    (tmp_path / LOCK_NAME).write_text(json.dumps(newer))
    with pytest.raises(ModelUnavailable) as info:
        ModelLock.load(tmp_path)
    assert "upgrade tunelens" in info.value.message
