"""GET /api/v1/playlists and the page's frame policy for the youtube-nocookie player."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import assert_error_shape
from tunelens.pipeline import Pipeline
from tunelens.web.app import create_app
from tunelens.web.settings import WebSettings


def test_default_region_lists_genres_and_moods(client: TestClient) -> None:
    body = client.get("/api/v1/playlists").json()
    assert body["region"] == {"id": "global", "label": "Global"}
    assert [r["id"] for r in body["regions"]] == ["global", "khaleeji"]
    assert {"classical", "jazz", "rock", "pop", "electronic"} <= set(body["genres"])
    assert body["moods"] == ["happy", "energetic", "calm", "sad", "intense"]
    kinds = {(g["kind"], g["name"]) for g in body["groups"]}
    assert ("genre", "rock") in kinds and ("mood", "calm") in kinds


def test_region_genre_and_mood_filters(client: TestClient) -> None:
    body = client.get("/api/v1/playlists?region=khaleeji&genre=pop&mood=sad").json()
    assert body["region"]["label"] == "Khaleeji"
    assert [(g["kind"], g["name"]) for g in body["groups"]] == [("genre", "pop"), ("mood", "sad")]
    pop = body["groups"][0]["entries"][0]
    assert pop["kind"] == "playlist" and pop["provider"] == "youtube"
    assert pop["embed_url"] == (
        "https://www.youtube-nocookie.com/embed/videoseries?list="
        "RDCLAK5uy_ncf7GgjSEDa0f_EiMC2D0px8NZ5RfPuz0"
    )
    sad = body["groups"][1]["entries"][0]
    assert sad["kind"] == "search" and sad["embed_url"] is None
    assert sad["url"].startswith("https://www.youtube.com/results?search_query=")
    # a genre the region has no playlists for: no group, not an error
    assert client.get("/api/v1/playlists?region=khaleeji&genre=rap").json()["groups"] == []


def test_unknown_region_genre_mood(client: TestClient) -> None:
    response = client.get("/api/v1/playlists?region=atlantis")
    assert response.status_code == 404
    body = assert_error_shape(response, "not_found")
    assert body["error"]["details"]["known"] == ["global", "khaleeji"]
    assert client.get("/api/v1/playlists?genre=polka").status_code == 422
    assert client.get("/api/v1/playlists?mood=sleepy").status_code == 422


def test_operator_file_and_a_broken_one(
    engine: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        'default_region = "levant"\n\n[regions.levant]\nlabel = "Levant"\n\n'
        '[[regions.levant.mood.calm]]\ntitle = "Calm"\nprovider = "spotify"\n'
        'query = "calm arabic"\n',
        encoding="utf-8",
    )
    settings = engine.settings.model_copy(update={"playlists_file": good})
    with TestClient(
        create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    ) as c:
        body = c.get("/api/v1/playlists").json()
        assert body["region"]["id"] == "levant" and body["moods"] == ["calm"]
        assert '<option value="levant" selected>Levant</option>' in c.get("/").text
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[regions.levant]\nlabel = "Levant"\n\n[[regions.levant.genre.polka]]\n'
        'title = "x"\nprovider = "youtube"\nquery = "polka"\n',
        encoding="utf-8",
    )
    settings = engine.settings.model_copy(update={"playlists_file": bad})
    with TestClient(
        create_app(settings, engine=engine, web_settings=WebSettings(_env_file=None))
    ) as c:
        response = c.get("/api/v1/playlists")
        assert response.status_code == 503
        error = assert_error_shape(response, "playlists_invalid")["error"]
        # a visitor's answer names no server file; the operator reads the reason in the log
        assert str(tmp_path) not in response.text and error["details"] == {}
        assert "line 4" in caplog.text and "unknown genre 'polka'" in caplog.text
        page = c.get("/")
        assert page.status_code == 200 and "playlists-panel" not in page.text
        assert c.get("/health").json()["status"] == "healthy"  # recommending still works


def test_page_frames_only_spotify_and_youtube_nocookie(client: TestClient) -> None:
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    frame_src = next(p for p in policy.split("; ") if p.startswith("frame-src"))
    assert frame_src == "frame-src https://open.spotify.com https://www.youtube-nocookie.com"
    assert 'id="region-select"' in page.text
