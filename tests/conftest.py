"""Shared fixtures: an isolated settings environment, a network guard, and the shared data.

Tests never touch the internet: every socket connection to a non-loopback address fails
loudly, and Hugging Face is forced offline. Each test gets its own data and cache directory.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SPOTIFY_CSV = SHARED_DATA / "spotify_songs" / "spotify_songs.csv"
PHOTOS_DIR = SHARED_DATA / "photos"

_real_connect = socket.socket.connect


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point tunelens's data and cache dirs at a fresh temp dir and force offline models."""
    from tunelens.core.settings import get_settings

    home = tmp_path / "tunelens-home"
    monkeypatch.setenv("TUNELENS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("TUNELENS_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TUNELENS_ALLOW_DOWNLOAD", "0")
    for name in (
        "TUNELENS_ENCODER",
        "TUNELENS_MODEL_DIR",
        "TUNELENS_CATALOG_DIR",
        "TUNELENS_CATALOG",
        "TUNELENS_SECRETS_DIR",
        "TUNELENS_LLM_BASE_URL",
        "TUNELENS_LLM_MODEL",
        "TUNELENS_LLM_API_KEY",
        "TUNELENS_LLM_API_KEY_FILE",
        "TUNELENS_PLAYLISTS_FILE",
        "TUNELENS_FACES",
        "TUNELENS_AWS_SECRET_ID",
        "TUNELENS_TRUSTED_PROXIES",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the tests
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


#: set by .ci/run: there, ../shared is always beside the clone, so a missing file is a failure
REQUIRE_SHARED = os.environ.get("TUNELENS_REQUIRE_SHARED") == "1"


def require_shared(path: Path) -> Path:
    """``path`` from ../shared; skips with the reason when absent, fails instead in CI."""
    if not path.exists():
        reason = f"shared test data not found at {path} (see README: ../shared beside the repo)"
        if REQUIRE_SHARED:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def spotify_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference catalogue built once per session from the shared Spotify CSV."""
    require_shared(SPOTIFY_CSV)
    from tunelens.catalogue.build import build_catalog

    out = tmp_path_factory.mktemp("catalog") / "spotify"
    build_catalog(SPOTIFY_CSV, out)
    return out


@pytest.fixture(scope="session")
def tiny_clip_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(transformers checkpoint, ONNX export) of the tiny random CLIP, built once per session."""
    pytest.importorskip("torch", reason="needs the torch extra")
    pytest.importorskip("transformers", reason="needs the torch extra")
    from tests.tiny_clip import exported_tiny_clip

    with pytest.MonkeyPatch.context() as mp:  # session fixtures run before isolated_settings
        mp.setenv("HF_HUB_OFFLINE", "1")
        return exported_tiny_clip(tmp_path_factory.mktemp("tiny-clip-shared"))
