"""Which folder the loader opens, and what it tells the operator when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.core.errors import ConfigError, DownloadError, ModelUnavailable
from tunelens.core.settings import Settings
from tunelens.modelhub.loader import fallback_notice, load_encoder, resolve_model_dir
from tunelens.modelhub.registry import registry
from tunelens.vision.colour import ColourEncoder


def test_missing_model_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        resolve_model_dir(Settings(model_dir=tmp_path / "nope"))
    assert info.value.code == "model_missing" and "nope" in info.value.message


def test_downloads_off_says_how_to_get_the_model() -> None:
    settings = Settings(allow_download=False)
    with pytest.raises(ModelUnavailable) as info:
        resolve_model_dir(settings)
    message = info.value.message
    assert registry().default.repo in message and "TUNELENS_ALLOW_DOWNLOAD" in message
    assert "tunelens models pull" in message


def test_auto_falls_back_with_one_path_free_notice(tmp_path: Path) -> None:
    settings = Settings(allow_download=False, cache_dir=tmp_path / "a-private-cache")
    encoder, notices = load_encoder("auto", settings)
    assert isinstance(encoder, ColourEncoder)
    assert len(notices) == 1
    assert "colour" in notices[0] and "TUNELENS_ALLOW_DOWNLOAD" in notices[0]
    assert "a-private-cache" not in notices[0] and str(tmp_path) not in notices[0]


def test_fallback_notice_names_the_cause_and_the_fix(tmp_path: Path) -> None:
    missing = ModelUnavailable("no", code="model_missing")
    online = Settings(allow_download=True)
    assert "HF_HUB_OFFLINE" in fallback_notice(missing, online)  # the suite runs offline
    assert "TUNELENS_MODEL_DIR" in fallback_notice(missing, Settings(model_dir=tmp_path))
    assert "TUNELENS_ALLOW_DOWNLOAD" in fallback_notice(missing, Settings(allow_download=False))


def test_fallback_notice_online(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    online = Settings(allow_download=True)
    failed = fallback_notice(DownloadError("net down", code="download_failed"), online)
    assert "download failed" in failed and "tunelens models pull" in failed
    broken = fallback_notice(ModelUnavailable("bad", code="model_corrupt"), online)
    assert "model_corrupt" in broken and "--force" in broken


def test_a_bad_model_name_is_an_error_even_with_auto() -> None:
    with pytest.raises(ConfigError) as info:
        load_encoder("auto", Settings(model="no-such-model"))
    assert info.value.code == "invalid_setting"
