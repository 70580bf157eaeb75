"""services/identity: server-issued, signed client ids — issuing, verifying, the secret kept
in the data directory, and how a request's identity is found (cookie, bearer, header, field)."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import offline_settings
from tunelens.core.errors import ConfigError
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.services.identity import (
    CLIENT_COOKIE,
    SECRET_FILE,
    ClientSigner,
    stored_secret,
)
from tunelens.web.settings import WebSettings


def test_a_token_proves_its_id_and_nothing_else() -> None:
    signer = ClientSigner(b"k" * 32)
    identity = signer.issue()
    assert len(identity.client_id) == 32 and identity.token.startswith("tlc1.")
    assert signer.verify(identity.token) == identity.client_id
    assert signer.verify(f" {identity.token} ") == identity.client_id
    other = signer.issue()
    assert other.client_id != identity.client_id
    prefix, client_id, signature = identity.token.split(".")
    forged = [
        identity.client_id,  # the id alone proves nothing
        f"{prefix}.{other.client_id}.{signature}",  # someone else's id under my signature
        f"{prefix}.{client_id}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{prefix}.{client_id}.",
        "tlc1." + "0" * 32 + "." + "A" * 43,
        "",
        "x" * 4000,
    ]
    for token in forged:
        assert signer.verify(token) is None, token
    # a token from another server (another secret) is not believed
    assert ClientSigner(b"z" * 32).verify(identity.token) is None


def test_the_secret_is_made_once_private_and_shared_by_every_worker(tmp_path: Path) -> None:
    path = tmp_path / "data" / SECRET_FILE
    found: list[bytes] = []
    threads = [threading.Thread(target=lambda: found.append(stored_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found[0]) == 64  # 32 random bytes, hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SECRET_FILE]  # no temporary files left
    settings = offline_settings(tmp_path)
    token = ClientSigner.from_settings(settings).issue().token
    assert ClientSigner.from_settings(settings).verify(token) is not None  # after a restart too


def test_a_configured_secret_wins_and_a_short_one_is_refused(tmp_path: Path) -> None:
    configured = offline_settings(tmp_path, client_secret="s" * 40)
    token = ClientSigner.from_settings(configured).issue().token
    assert ClientSigner(b"s" * 40).verify(token) is not None
    assert not (tmp_path / "data" / SECRET_FILE).exists()
    with pytest.raises(ConfigError) as short:
        ClientSigner.from_settings(offline_settings(tmp_path, client_secret="short"))
    assert "TUNELENS_CLIENT_SECRET" in short.value.message


def test_an_unwritable_data_dir_still_serves_with_a_process_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    signer = ClientSigner.from_settings(offline_settings(tmp_path, data_dir=blocker / "data"))
    assert signer.verify(signer.issue().token) is not None
    assert any("TUNELENS_CLIENT_SECRET" in r.getMessage() for r in caplog.records)


@pytest.fixture(scope="module")
def client(engine: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("identity")
    settings = offline_settings(home, catalog_dir=engine.settings.catalog_dir)
    app = create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    with TestClient(app) as c:
        yield c


def test_api_clients_get_a_token_and_every_transport_carries_it(
    client: TestClient, engine: Pipeline
) -> None:
    issued = client.post("/api/v1/clients")
    assert issued.status_code == 201
    token, client_id = issued.json()["client_token"], issued.json()["client_id"]
    track = engine.recommender.tracks[3].id
    sent = [
        {"headers": {"Authorization": f"Bearer {token}"}},
        {"headers": {"X-Client-Id": token}},
        {"json_extra": {"client_id": token}},
        {"cookies": True},
    ]
    for how in sent:
        body = {"track_id": track, "kind": "played", **how.get("json_extra", {})}
        if how.get("cookies"):
            client.cookies.set(CLIENT_COOKIE, token)
        try:
            response = client.post("/api/v1/feedback", json=body, headers=how.get("headers"))
        finally:
            client.cookies.clear()
        assert response.status_code == 201, (how, response.text)
        assert response.json()["client_id"] == client_id
    anonymous = client.post("/api/v1/feedback", json={"track_id": track, "kind": "played"})
    assert anonymous.status_code == 201 and anonymous.json()["client_id"] is None


def test_the_page_issues_a_signed_cookie_and_replaces_a_forged_one(client: TestClient) -> None:
    client.cookies.clear()
    first = client.get("/")
    token = first.cookies.get(CLIENT_COOKIE)
    assert token is not None and token.startswith("tlc1.")
    assert "httponly" in first.headers["set-cookie"].lower()
    assert "samesite=lax" in first.headers["set-cookie"].lower()
    client.cookies.clear()  # only the cookie set below travels
    client.cookies.set(CLIENT_COOKIE, token)
    assert "set-cookie" not in client.get("/").headers  # a valid one is kept
    client.cookies.clear()
    client.cookies.set(CLIENT_COOKIE, "someone-elses-id")
    replaced = client.get("/")
    new = replaced.cookies.get(CLIENT_COOKIE)
    assert new is not None and new != "someone-elses-id" and new.startswith("tlc1.")
    client.cookies.clear()


def test_a_forged_cookie_is_anonymous_but_a_forged_token_is_refused(
    client: TestClient, engine: Pipeline
) -> None:
    track = engine.recommender.tracks[4].id
    client.cookies.clear()
    client.cookies.set(CLIENT_COOKIE, "tlc1." + "a" * 32 + "." + "B" * 43)
    try:
        response = client.post("/api/v1/feedback", json={"track_id": track, "kind": "played"})
    finally:
        client.cookies.clear()
    assert response.status_code == 201 and response.json()["client_id"] is None
    for headers in ({"X-Client-Id": "a" * 32}, {"Authorization": "Bearer tlc1.forged"}):
        refused = client.post(
            "/api/v1/feedback", json={"track_id": track, "kind": "played"}, headers=headers
        )
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_client_token"
    # the admin token travels in the same header: a bearer that is not a client token is not
    # a client's (and not an error on the listener's routes)
    other_bearer = client.post(
        "/api/v1/feedback",
        json={"track_id": track, "kind": "played"},
        headers={"Authorization": "Bearer some-admin-token"},
    )
    assert other_bearer.status_code == 201 and other_bearer.json()["client_id"] is None
