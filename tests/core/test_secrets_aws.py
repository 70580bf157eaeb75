"""Settings from AWS Secrets Manager, against moto's server on 127.0.0.1 (real HTTP, real boto3).

Every failure is a ConfigError with a stable code naming the setting or the secret id; none
may carry a value from the secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.aws_server import SecretsServer, free_port, point_at, secrets_server
from tunelens.core.errors import ConfigError
from tunelens.core.settings import get_settings

__all__ = ["secrets_server"]  # the fixture, imported for this module

pytestmark = pytest.mark.s3  # needs the local AWS-compatible server (moto)

PLANTED = "planted-7f3a9c-do-not-leak"


def load_error(
    monkeypatch: pytest.MonkeyPatch, server: SecretsServer, secret_id: str
) -> ConfigError:
    point_at(monkeypatch, server, secret_id)
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as caught:
        get_settings()
    return caught.value


def assert_no_value(error: ConfigError, *values: str) -> None:
    shown = f"{error.message} {error.details} {error!s} {error!r}"
    for value in values:
        assert value not in shown, shown


def test_settings_come_from_the_secret(
    secrets_server: SecretsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_id = secrets_server.create(
        {"admin_token": PLANTED, "TUNELENS_LLM_API_KEY": "sk-test-key-123", "top_k": 7}
    )
    point_at(monkeypatch, secrets_server, secret_id)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == PLANTED
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-test-key-123"
    assert settings.top_k == 7
    assert PLANTED not in repr(settings)  # SecretStr: never in a repr or a log of settings


def test_env_wins_over_the_secret_and_the_secret_over_secret_files(
    secrets_server: SecretsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_id = secrets_server.create({"top_k": 7, "max_top_k": 40})
    files = tmp_path / "secret-files"
    files.mkdir()
    (files / "tunelens_max_top_k").write_text("20")
    (files / "tunelens_max_per_artist").write_text("3")
    point_at(monkeypatch, secrets_server, secret_id)
    monkeypatch.setenv("TUNELENS_SECRETS_DIR", str(files))
    monkeypatch.setenv("TUNELENS_TOP_K", "5")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.top_k == 5  # environment > secret
    assert settings.max_top_k == 40  # secret > secret file
    assert settings.max_per_artist == 3  # secret file > default


def test_a_missing_secret_is_a_clear_start_up_error(
    secrets_server: SecretsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = load_error(monkeypatch, secrets_server, "tunelens/no-such-secret")
    assert error.code == "aws_secret_not_found"
    assert "TUNELENS_AWS_SECRET_ID" in error.message
    assert "tunelens/no-such-secret" in error.message
    assert error.details["setting"] == "TUNELENS_AWS_SECRET_ID"


def test_a_bad_value_names_the_setting_never_the_value(
    secrets_server: SecretsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_id = secrets_server.create({"admin_token": PLANTED, "top_k": PLANTED})
    error = load_error(monkeypatch, secrets_server, secret_id)
    assert error.code == "invalid_setting"
    assert "TUNELENS_TOP_K" in error.message
    assert error.details["settings"] == ["TUNELENS_TOP_K"]
    assert_no_value(error, PLANTED)


@pytest.mark.parametrize(
    ("value", "code", "named"),
    [
        (f'{{"admin_token": "{PLANTED}"', "aws_secret_not_json", "not valid JSON"),
        (f'["{PLANTED}"]', "aws_secret_not_json", "JSON object"),
        (PLANTED.encode(), "aws_secret_not_json", "binary"),
        ({"admin_tokn": PLANTED}, "aws_secret_unknown_setting", "admin_tokn"),
        ({"admin_token": {"nested": PLANTED}}, "aws_secret_invalid_value", "admin_token"),
    ],
)
def test_an_unreadable_secret_names_the_problem_not_the_content(
    secrets_server: SecretsServer,
    monkeypatch: pytest.MonkeyPatch,
    value: object,
    code: str,
    named: str,
) -> None:
    secret_id = secrets_server.create(value)  # type: ignore[arg-type]
    error = load_error(monkeypatch, secrets_server, secret_id)
    assert error.code == code
    assert named in error.message
    assert secret_id in error.message
    assert_no_value(error, PLANTED)


def test_an_unreachable_endpoint_fails_fast_and_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = SecretsServer(endpoint=f"http://127.0.0.1:{free_port()}")  # nothing listens
    start = time.perf_counter()
    error = load_error(monkeypatch, closed, "tunelens/prod")
    assert error.code == "aws_secrets_unreachable"
    assert "TUNELENS_AWS_SECRET_ID" in error.message
    assert time.perf_counter() - start < 30


def test_missing_credentials_are_named(
    secrets_server: SecretsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_id = secrets_server.create({"top_k": 3})
    point_at(monkeypatch, secrets_server, secret_id)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # no shared config and no instance metadata either: the chain finds nothing
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert caught.value.code == "aws_credentials_missing"


def test_tunelens_serve_refuses_to_start_and_says_why(
    secrets_server: SecretsServer, tmp_path: Path
) -> None:
    """The CLI's start-up error: one line naming the setting, exit 1, no traceback, no value."""
    secret_id = secrets_server.create({"admin_token": PLANTED, "max_image_bytes": PLANTED})
    env = {
        **os.environ,
        **secrets_server.env(secret_id),
        "TUNELENS_DATA_DIR": str(tmp_path / "data"),
        "TUNELENS_CACHE_DIR": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tunelens.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "TUNELENS_MAX_IMAGE_BYTES" in done.stderr
    assert "Traceback" not in done.stderr
    assert PLANTED not in done.stderr + done.stdout
