"""A tiny random CLIP in the transformers.js layout, served by a fake hub on loopback.

The model is built once per session (tests/tiny_clip.py); each test gets its own hub server
with the model published as ``tiny/clip`` and ``HF_ENDPOINT`` pointing at it, and the hub
client put back online (tests/conftest.py forces it offline for everything else).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_hub import FakeHub, folder_files, running_hub
from tests.tiny_clip import tiny_hf_layout

REPO = "tiny/clip"


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny CLIP folder (fp32 + ``_quantized`` int8, random weights), built once."""
    pytest.importorskip("torch", reason="building the tiny model needs the torch extra")
    pytest.importorskip("transformers", reason="building the tiny model needs the torch extra")
    return tiny_hf_layout(tmp_path_factory.getbasetemp() / "tiny-hf")


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub client online again (the suite forces HF_HUB_OFFLINE=1) with downloads on."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("TUNELENS_ALLOW_DOWNLOAD", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")


@pytest.fixture
def hub(tiny_hf: Path, online: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A running fake hub with the tiny model published as ``tiny/clip`` (main)."""
    with running_hub() as server:
        server.publish(REPO, folder_files(tiny_hf))
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server
