"""An attacker who knows (or guesses) another visitor's client id, or copies a prediction id,
cannot read, change or delete that visitor's data.

The victim uses the page the way a browser does (the signed cookie the page sets); the attacker
tries every way the old self-asserted id allowed: the victim's id in ``X-Client-Id``, in the
body, in a cookie with a made-up signature, in a bearer token, and the victim's prediction id
in feedback with no id at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import AppFactory
from tests.storage.helpers import jpeg_with_gps
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.identity import CLIENT_COOKIE


def _db(client: TestClient) -> Database:
    loop = client.app.state.data_loop  # type: ignore[attr-defined]
    assert isinstance(loop, DataLoop) and loop.db is not None
    return loop.db


def _recommend(client: TestClient, photo: bytes, **kwargs: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/recommend",
        files={"image": ("p.jpg", photo, "image/jpeg")},
        data={"top_k": "10", **kwargs.pop("data", {})},
        **kwargs,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(answer: dict[str, Any]) -> list[str]:
    return [item["track"]["id"] for item in answer["tracks"]]


def _forged_cookie(client_id: str) -> str:
    return f"tlc1.{client_id}.{'A' * 43}"


@pytest.fixture
def victim_and_attacker(
    make_client: AppFactory,
) -> tuple[TestClient, TestClient, str, dict[str, Any], str]:
    """One app; the victim's browser (page cookie) has kept a photo and disliked a song."""
    victim = make_client(web={"rate_limit_per_minute": 0})
    attacker = TestClient(victim.app)  # another browser on the same running app
    victim.get("/")  # the page hands out the signed identity
    token = victim.cookies.get(CLIENT_COOKIE)
    assert token is not None
    victim_id = token.split(".")[1]
    photo = jpeg_with_gps(colour=(220, 150, 60))
    answer = _recommend(victim, photo, data={"consent": "true"})
    assert answer["upload"]["kept"] is True
    disliked = _ids(answer)[0]
    response = victim.post(
        "/api/v1/feedback",
        json={"track_id": disliked, "kind": "dislike", "prediction_id": answer["prediction_id"]},
    )
    assert response.status_code == 201 and response.json()["client_id"] == victim_id
    return victim, attacker, victim_id, answer, disliked


def test_another_clients_id_reveals_nothing(
    victim_and_attacker: tuple[TestClient, TestClient, str, dict[str, Any], str],
) -> None:
    victim, attacker, victim_id, answer, disliked = victim_and_attacker
    photo = jpeg_with_gps(colour=(220, 150, 60))
    assert disliked not in _ids(_recommend(victim, photo))  # the victim's dislike applies
    # the attacker names the victim: every explicit way is refused, a forged cookie is ignored
    for headers in (
        {"X-Client-Id": victim_id},
        {"Authorization": f"Bearer tlc1.{victim_id}.{'A' * 43}"},
    ):
        refused = attacker.post(
            "/api/v1/recommend", files={"image": ("p.jpg", photo, "image/jpeg")}, headers=headers
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_client_token"
    refused = attacker.post(
        "/api/v1/recommend",
        files={"image": ("p.jpg", photo, "image/jpeg")},
        data={"client_id": victim_id},
    )
    assert refused.status_code == 401
    attacker.cookies.set(CLIENT_COOKIE, _forged_cookie(victim_id))
    seen = _recommend(attacker, photo)
    assert disliked in _ids(seen)  # the victim's exclusions do not leak into these results
    similar = attacker.post(
        "/api/v1/similar",
        json={"track_id": _ids(answer)[1], "reading": answer["reading"], "top_k": 50},
        headers={"X-Client-Id": victim_id},
    )
    assert similar.status_code == 401


def test_another_clients_results_and_predictions_cannot_be_changed(
    victim_and_attacker: tuple[TestClient, TestClient, str, dict[str, Any], str],
) -> None:
    victim, attacker, victim_id, answer, _ = victim_and_attacker
    target = _ids(answer)[1]
    own_token = attacker.post("/api/v1/clients").json()["client_token"]
    attempts: list[dict[str, Any]] = [
        # the victim's prediction id with no identity: the old route took the owner's id over
        {"json": {"track_id": target, "kind": "dislike", "prediction_id": answer["prediction_id"]}},
        # ... and with the attacker's own, valid identity
        {
            "json": {
                "track_id": target,
                "kind": "dislike",
                "prediction_id": answer["prediction_id"],
            },
            "headers": {"Authorization": f"Bearer {own_token}"},
        },
    ]
    for attempt in attempts:
        response = attacker.post("/api/v1/feedback", **attempt)
        assert response.status_code == 404, response.text
        body = response.json()
        assert body["error"]["code"] == "prediction_not_found"
        assert victim_id not in response.text  # never echoes the owner's id
    for headers in ({"X-Client-Id": victim_id}, {"Authorization": f"Bearer {victim_id}"}):
        response = attacker.post(
            "/api/v1/feedback", json={"track_id": target, "kind": "dislike"}, headers=headers
        )
        assert response.status_code in (201, 401)
        assert victim_id not in response.text
    attacker.cookies.set(CLIENT_COOKIE, _forged_cookie(victim_id))
    forged = attacker.post("/api/v1/feedback", json={"track_id": target, "kind": "dislike"})
    assert forged.status_code == 201 and forged.json()["client_id"] is None
    # none of it became the victim's opinion: their only dislike is their own
    opinions = repo.client_opinions(_db(victim), victim_id)
    assert [o.track_id for o in opinions] == [_ids(answer)[0]]
    assert target in _ids(_recommend(victim, jpeg_with_gps(colour=(220, 150, 60))))


def test_another_clients_photo_cannot_be_deleted(
    victim_and_attacker: tuple[TestClient, TestClient, str, dict[str, Any], str],
) -> None:
    victim, attacker, victim_id, answer, _ = victim_and_attacker
    sha = answer["upload"]["sha256"]
    url = f"/api/v1/uploads/{sha}"
    assert attacker.delete(url).status_code == 401  # no identity at all
    assert attacker.delete(url, headers={"X-Client-Id": victim_id}).status_code == 401
    attacker.cookies.set(CLIENT_COOKIE, _forged_cookie(victim_id))
    assert attacker.delete(url).status_code == 401  # a forged cookie is no identity
    attacker.cookies.clear()
    own_token = attacker.post("/api/v1/clients").json()["client_token"]
    foreign = attacker.delete(url, headers={"Authorization": f"Bearer {own_token}"})
    assert foreign.status_code == 404  # the same answer as for a photo never kept
    assert foreign.json()["error"]["code"] == "upload_not_found"
    assert repo.get_upload(_db(victim), sha) is not None  # still kept
    # the victim themselves can delete it from the page (their cookie)
    deleted = victim.delete(url)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert repo.get_upload(_db(victim), sha) is None


def test_another_clients_answer_cannot_be_read_again(
    victim_and_attacker: tuple[TestClient, TestClient, str, dict[str, Any], str],
) -> None:
    """A copied prediction id shows the attacker nothing of the victim's answer: neither the
    answer worded again nor its commentary (both 404, as for an id never made)."""
    victim, attacker, _victim_id, answer, _disliked = victim_and_attacker
    prediction = answer["prediction_id"]
    assert victim.get(f"/api/v1/predictions/{prediction}?lang=es").status_code == 200
    assert victim.get(f"/api/v1/predictions/{prediction}/commentary").status_code == 200
    for path in (
        f"/api/v1/predictions/{prediction}?lang=es",
        f"/api/v1/predictions/{prediction}/commentary",
    ):
        refused = attacker.get(path)
        assert refused.status_code == 404, path
        assert answer["tracks"][0]["track"]["id"] not in refused.text
