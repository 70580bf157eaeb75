"""Secrets planted in AWS Secrets Manager (moto on 127.0.0.1) never appear in a response or a
log line, even at DEBUG — where botocore would print the whole Secrets Manager answer if
``configure_logging`` let it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.aws_server import SecretsServer, point_at, secrets_server
from tests.web.conftest import LOOPBACK_PEER
from tunelens.core.settings import get_settings
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.middleware.logging_setup import QUIET_LIBRARIES, configure_logging
from tunelens.web.settings import WebSettings

__all__ = ["secrets_server"]

pytestmark = pytest.mark.s3

ADMIN_TOKEN = "planted-admin-token-93c1f0e2"
LLM_KEY = "sk-planted-llm-key-5d1e77aa"
S3_SECRET = "planted-s3-secret-0b9e4421"
DB_PASSWORD = "planted-db-password-c3a8"
PLANTED = (ADMIN_TOKEN, LLM_KEY, S3_SECRET, DB_PASSWORD)


@pytest.fixture
def server_logs() -> Iterator[io.StringIO]:
    """The server's own logging set-up at DEBUG, into a buffer; the previous set-up restored."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    watched = [*QUIET_LIBRARIES, "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {name: logging.getLogger(name) for name in watched}
    saved_state = {
        name: (lg.level, lg.propagate, lg.disabled, lg.handlers[:]) for name, lg in saved.items()
    }
    buffer = io.StringIO()
    configure_logging("DEBUG", json_lines=True)
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    try:
        yield buffer
    finally:
        logging.captureWarnings(False)  # configure_logging turned it on
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, lg in saved.items():
            lg.level, lg.propagate, lg.disabled, lg.handlers[:] = saved_state[name]


def test_planted_secrets_never_reach_responses_or_logs(
    secrets_server: SecretsServer,
    monkeypatch: pytest.MonkeyPatch,
    engine: Pipeline,
    photo_bytes: bytes,
    server_logs: io.StringIO,
) -> None:
    secret_id = secrets_server.create(
        {
            "admin_token": ADMIN_TOKEN,
            "llm_api_key": LLM_KEY,
            "s3_secret_access_key": S3_SECRET,
            # nothing listens on port 1: the database fails, and its error is shown and logged
            "database_url": f"postgresql://tunelens:{DB_PASSWORD}@127.0.0.1:1/tunelens",
        }
    )
    point_at(monkeypatch, secrets_server, secret_id)
    get_settings.cache_clear()
    settings = get_settings()  # read with DEBUG logging on, as `tunelens serve` would
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == ADMIN_TOKEN  # the secret did arrive
    logging.getLogger("tunelens.test").debug("settings loaded: %s", settings)

    app = create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    seen: list[str] = []
    with TestClient(app, client=LOOPBACK_PEER) as client:
        calls = [
            client.get("/health"),
            client.get("/ready"),
            client.get("/metrics"),
            client.get("/stats"),
            client.get("/openapi.json"),
            client.get("/admin"),
            client.get("/api/v1/admin/stats", headers={"Authorization": "Bearer wrong"}),
            client.get("/api/v1/admin/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
            client.post("/admin/login", data={"token": ADMIN_TOKEN}, follow_redirects=False),
            client.post("/recommend", files={"image": ("p.jpg", photo_bytes)}),
            client.post("/api/v1/recommend", files={"image": ("n.txt", b"not a picture")}),
            client.post("/api/v1/feedback", json={"track_id": "x", "kind": "like"}),
            client.get("/no/such/page"),
        ]
        for response in calls:
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
            seen.append(f"{response.request.method} {response.request.url}\n{headers}\n")
            seen.append(response.text)
        assert calls[0].json()["database"]["status"] == "unavailable"  # the DB error was shown
    logs = server_logs.getvalue()
    assert "database unavailable" in logs  # ... and logged
    assert "secretsmanager" in logs.lower() or "botocore" in logs  # DEBUG really was on
    everything = "\n".join(seen)
    for secret in PLANTED:
        assert secret not in everything, f"{secret} in a response"
        assert secret not in logs, f"{secret} in the logs"
