"""The LLM commentary client against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from tests.fake_llm import DEFAULT_TEXT, FakeLlm, fake_llm_server
from tunelens.core.errors import ConfigError
from tunelens.core.settings import Settings
from tunelens.core.types import ColourSummary, EncoderInfo, Reading
from tunelens.explain.llm import (
    Commentary,
    LlmConfig,
    build_messages,
    commentary,
    image_data_url,
    parse_reply,
)

TEMPLATE = "tunelens reads this picture as awe (41%)."
SECRET = "sk-test-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLlm]:
    with fake_llm_server() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeLlm) -> FakeLlm:
    server.script.clear()
    server.requests.clear()
    return server


@pytest.fixture(scope="module")
def reading() -> Reading:
    return Reading(
        emotions={"awe": 0.41, "contentment": 0.3, "sadness": 0.29},
        top_emotion="awe",
        valence=0.3,
        arousal=0.1,
        genres={"classical": 0.5, "pop": 0.3, "rock": 0.2},
        scenes=[],
        colour=ColourSummary(
            brightness=0.6,
            saturation=0.3,
            colourfulness=0.5,
            warmth=-0.2,
            contrast=0.4,
            edge_density=0.1,
            dominant_hue="blue",
        ),
        encoder=EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1"),
    )


PHOTO = np.random.default_rng(0).integers(0, 255, size=(600, 900, 3), dtype=np.uint8)


def ask(
    fake: FakeLlm, reading: Reading, *, timeout: float = 2.0, heatmap: bool = True, lang: str = "en"
) -> Commentary:
    config = LlmConfig(
        base_url=fake.base_url, model="tiny-vision", api_key=SecretStr(SECRET), timeout_s=timeout
    )

    async def go() -> Commentary:
        return await commentary(
            config,
            reading,
            fallback_text=TEMPLATE,
            photo_url=image_data_url(PHOTO),
            heatmap_url=image_data_url(PHOTO[:, ::-1]) if heatmap else None,
            regions=["upper third: sky"],
            lang=lang,
        )

    return anyio.run(go)


def _decode(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_success_sends_photo_and_heatmap_shrunk_to_512(fake: FakeLlm, reading: Reading) -> None:
    result = ask(fake, reading)
    assert result.source == "llm" and result.text == DEFAULT_TEXT and result.notice is None
    assert len(fake.requests) == 1
    sent = fake.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"
    body = sent["json"]
    assert body["model"] == "tiny-vision" and body["max_tokens"] > 0
    system, user = body["messages"]
    assert system["role"] == "system" and "English" in system["content"]
    images = [p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url"]
    assert len(images) == 2
    for url in images:
        assert max(_decode(url).size) == 512
    prompts = " ".join(p["text"] for p in user["content"] if p["type"] == "text")
    assert "awe" in prompts and "upper third: sky" in prompts and "heatmap" in prompts


def test_timeout_falls_back_to_the_template_with_a_notice(
    fake: FakeLlm, reading: Reading, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    fake.script[:] = [("sleep", 1.5), ("sleep", 1.5)]
    start = time.perf_counter()
    result = ask(fake, reading, timeout=0.3)
    assert time.perf_counter() - start < 1.5  # two 0.3 s attempts, not the server's 1.5 s
    assert result.source == "template" and result.text == TEMPLATE
    assert result.notice and "did not answer in time" in result.notice
    assert len(fake.requests) == 2  # one retry
    assert "attempt 1/2 failed: timeout" in caplog.text
    assert SECRET not in caplog.text  # the key is never logged


def test_malformed_reply_falls_back_without_retrying(fake: FakeLlm, reading: Reading) -> None:
    fake.script[:] = [("raw", b'{"choices": []}')]
    result = ask(fake, reading)
    assert result.source == "template" and result.text == TEMPLATE
    assert result.notice and "could not be read" in result.notice
    assert len(fake.requests) == 1
    fake.script[:] = [("raw", b"<html>not json</html>")]
    assert ask(fake, reading).source == "template"


def test_500_then_success_on_the_retry(fake: FakeLlm, reading: Reading) -> None:
    fake.script[:] = [("status", 500), ("ok", "Second time lucky.")]
    result = ask(fake, reading)
    assert result.source == "llm" and result.text == "Second time lucky."
    assert len(fake.requests) == 2


def test_refused_request_is_not_retried(fake: FakeLlm, reading: Reading) -> None:
    fake.script[:] = [("status", 401)]
    result = ask(fake, reading, heatmap=False)
    assert result.source == "template"
    assert result.notice and "HTTP error 401" in result.notice
    assert len(fake.requests) == 1
    images = [
        p for p in fake.requests[0]["json"]["messages"][1]["content"] if p["type"] == "image_url"
    ]
    assert len(images) == 1  # no heatmap, no second image


def test_unreachable_endpoint(reading: Reading) -> None:
    config = LlmConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=0.5)
    result = anyio.run(
        lambda: commentary(config, reading, fallback_text=TEMPLATE, photo_url="data:,")
    )
    assert result.source == "template" and "could not be reached" in (result.notice or "")


def test_no_llm_configured(reading: Reading) -> None:
    result = anyio.run(lambda: commentary(None, reading, fallback_text=TEMPLATE, photo_url=None))
    assert result.source == "template" and "No commentary service" in (result.notice or "")


def test_settings_key_from_file_and_never_in_repr(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(SECRET + "\n")
    settings = Settings(
        _env_file=None, llm_base_url="http://x/v1", llm_model="m", llm_api_key_file=key_file
    )
    config = LlmConfig.from_settings(settings)
    assert config is not None and config.api_key is not None
    assert config.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(config) and SECRET not in repr(settings)
    direct = Settings(_env_file=None, llm_base_url="http://x/v1", llm_model="m", llm_api_key=SECRET)
    assert SECRET not in repr(direct) and SECRET not in str(direct.model_dump())
    assert LlmConfig.from_settings(Settings(_env_file=None)) is None
    missing = Settings(
        _env_file=None,
        llm_base_url="http://x/v1",
        llm_model="m",
        llm_api_key_file=tmp_path / "nope",
    )
    with pytest.raises(ConfigError) as caught:
        LlmConfig.from_settings(missing)
    assert caught.value.code == "llm_key_unreadable"


def test_parse_reply_accepts_content_parts() -> None:
    body = {"choices": [{"message": {"content": [{"type": "text", "text": " Hi \n there "}]}}]}
    assert parse_reply(body) == "Hi there"


def test_prompt_without_heatmap_mentions_no_heatmap(reading: Reading) -> None:
    messages = build_messages(reading, photo_url="data:image/jpeg;base64,AA==")
    user = messages[1]["content"]
    assert [p["type"] for p in user] == ["text", "image_url"]
