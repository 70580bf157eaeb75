"""Settings come from the environment, a .env file and secret files, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.core.errors import ConfigError
from tunelens.core.settings import get_settings


def test_env_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TUNELENS_TOP_K=7\nTUNELENS_MAX_TOP_K=20\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUNELENS_MAX_TOP_K", "30")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.top_k == 7  # from .env
    assert settings.max_top_k == 30  # the environment wins over .env


def test_secret_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "tunelens_top_k").write_text("4")
    monkeypatch.setenv("TUNELENS_SECRETS_DIR", str(secrets))
    get_settings.cache_clear()
    assert get_settings().top_k == 4


def test_missing_secrets_dir_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNELENS_SECRETS_DIR", str(tmp_path / "nope"))
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert caught.value.code == "secrets_dir_missing"
    assert "nope" in caught.value.message
