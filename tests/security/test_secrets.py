"""Secrets never leave the process: a full run of ``tunelens serve`` with planted keys (env,
``.env`` and secret files), at DEBUG log level, then every log line and every response body
and header is searched for each planted value."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import ServerProcess, free_port
from tests.unit.bad_images import sample_jpeg
from tunelens.core.settings import Settings
from tunelens.web.middleware.log_redaction import (
    REDACTED,
    redact_secrets_in_logs,
    secret_values,
)
from tunelens.web.middleware.logging_setup import JsonFormatter


def _planted(kind: str) -> str:
    return f"planted-{kind}-{uuid.uuid4().hex}"


@pytest.mark.slow
def test_planted_secrets_appear_in_no_log_line_and_no_response(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    secrets = {
        "llm": _planted("llm-key"),  # secret file
        "admin": _planted("admin-token"),  # secret file
        "s3_key_id": "AKIA" + uuid.uuid4().hex[:16].upper(),  # environment
        "s3_secret": _planted("s3-secret"),  # .env file
    }
    secrets_dir = tmp_path / "run-secrets"
    secrets_dir.mkdir()
    (secrets_dir / "tunelens_llm_api_key").write_text(secrets["llm"] + "\n")
    (secrets_dir / "tunelens_admin_token").write_text(secrets["admin"])
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text(f"TUNELENS_S3_SECRET_ACCESS_KEY={secrets['s3_secret']}\n")
    dead = f"http://127.0.0.1:{free_port()}"
    server = server_factory(
        {
            "TUNELENS_SECRETS_DIR": str(secrets_dir),
            "TUNELENS_S3_ACCESS_KEY_ID": secrets["s3_key_id"],
            "TUNELENS_BLOB_BACKEND": "s3",
            "TUNELENS_S3_ENDPOINT_URL": dead,  # a dead S3 endpoint: errors get logged
            "TUNELENS_LLM_BASE_URL": f"{dead}/v1",  # a dead LLM endpoint
            "TUNELENS_LLM_MODEL": "vision-test",
            "TUNELENS_LLM_TIMEOUT_S": "1",
            "TUNELENS_LOG_LEVEL": "DEBUG",
            "TUNELENS_RATE_LIMIT_PER_MINUTE": "0",
        },
        home=home,
    ).start()

    seen: list[httpx.Response] = []
    with httpx.Client(base_url=server.base, timeout=30) as http:

        def call(method: str, path: str, **kwargs: object) -> httpx.Response:
            response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
            seen.append(response)
            return response

        assert call("GET", "/health").status_code == 200
        rec = call(
            "POST",
            "/api/v1/recommend",
            files={"image": ("a.jpg", sample_jpeg(), "image/jpeg")},
            data={"consent": "true"},
        ).json()
        assert rec["upload"]["status"] == "pending", "the S3 store is dead"
        prediction, track = rec["prediction_id"], rec["tracks"][0]["track"]["id"]
        commentary = call("GET", f"/api/v1/predictions/{prediction}/commentary").json()
        assert commentary["source"] == "template" and commentary["notice"]
        assert (
            call("POST", "/api/v1/feedback", json={"track_id": track, "kind": "like"}).status_code
            == 201
        )
        call("POST", "/recommend", files={"image": ("x.txt", b"not a picture")})
        call(
            "POST",
            "/api/v1/feedback",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        call("GET", "/nowhere")
        bad = call("GET", "/api/v1/admin/stats", headers={"Authorization": "Bearer wrong-token"})
        assert bad.status_code == 403
        good = call(
            "GET", "/api/v1/admin/stats", headers={"Authorization": f"Bearer {secrets['admin']}"}
        )
        assert good.status_code == 200
        login = call(
            "POST", "/admin/login", data={"token": secrets["admin"]}, follow_redirects=False
        )
        assert login.status_code in (200, 303)
        call("GET", "/admin", headers={"Accept": "text/html"})
        for path in ("/stats", "/", "/openapi.json", "/api/v1/playlists", "/ready", "/metrics"):
            call("GET", path)
    assert server.stop() is not None
    log = server.log()
    assert "engine ready" in log and "blob store unreachable" in log, "the run really happened"
    assert any('"level": "debug"' in line for line in log.splitlines()), "DEBUG was on"

    leaks: list[str] = []
    for name, value in secrets.items():
        if value in log:
            line = next(line for line in log.splitlines() if value in line)
            leaks.append(f"{name} in the log: {line[:300]}")
        for response in seen:
            text = response.text + json.dumps(dict(response.headers))
            if value in text:
                leaks.append(f"{name} in {response.request.method} {response.request.url.path}")
    assert not leaks, "\n".join(leaks)
    print(
        f"{len(seen)} responses and {len(log.splitlines())} log lines clean; "
        f"{log.count(REDACTED)} values redacted in the log"
    )


def test_redaction_covers_messages_extras_and_tracebacks() -> None:
    token = _planted("admin")
    key = 'k"ey-with-quote-' + uuid.uuid4().hex
    settings = Settings(
        _env_file=None,
        admin_token=token,
        llm_api_key=key,
        database_url="postgresql://u:db-password-123@db/x",
    )
    assert set(secret_values(settings)) == {token, key, "db-password-123"}
    logger = logging.getLogger(f"redaction-test-{uuid.uuid4().hex}")
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    assert redact_secrets_in_logs(settings, logger) == 3
    logger.warning("token %s in a message", token, extra={"header": f"Bearer {key}"})
    try:
        raise RuntimeError(f"connect failed for postgresql://u:db-password-123@db/x with {token}")
    except RuntimeError:
        logger.exception("database down")
    out = stream.getvalue()
    for value in (token, key, json.dumps(key)[1:-1], "db-password-123"):
        assert value not in out
    assert out.count(REDACTED) >= 5
    assert "Traceback" in out, "the traceback itself is kept, only the secrets are blanked"
