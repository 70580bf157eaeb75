"""Optional LLM commentary through any OpenAI-compatible chat-completions endpoint.

Like Image2Genre, the model sees the photo and (when one was made) the heatmap, both shrunk to
512 px and sent inline as base64 ``image_url`` parts, with short prompts asking for one or two
sentences. Unlike Image2Genre, nothing depends on it: the template explanation is always there,
the page asks for the commentary only after the songs are shown, and every failure — no
answer in time (one retry), a refused request, an unreadable reply — gives back the template
text with a notice saying why, in the answer's language.

Settings: ``TUNELENS_LLM_BASE_URL`` (e.g. ``https://api.openai.com/v1``), ``TUNELENS_LLM_MODEL``,
``TUNELENS_LLM_API_KEY`` or ``TUNELENS_LLM_API_KEY_FILE`` (or a ``tunelens_llm_api_key`` secret
file), ``TUNELENS_LLM_TIMEOUT_S``. The key is sent only in the ``Authorization`` header and is
never logged.
"""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydantic import SecretStr

from tunelens.core.errors import ConfigError
from tunelens.core.settings import Settings
from tunelens.core.types import Reading
from tunelens.i18n import Translator, translator

log = logging.getLogger(__name__)

#: longest side of the images sent to the model (as Image2Genre did)
IMAGE_MAX_SIDE = 512
#: attempts per commentary: the first try and one retry
ATTEMPTS = 2
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def llm_configured(settings: Settings) -> bool:
    """True when a base URL and a model are set (the key may be absent: local servers)."""
    return bool(settings.llm_base_url and settings.llm_model)


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: SecretStr | None = None
    timeout_s: float = 20.0
    max_tokens: int = 220

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig | None:
        """The configured endpoint, or ``None`` when no base URL or model is set."""
        if not settings.llm_base_url or not settings.llm_model:
            return None
        key = settings.llm_api_key
        if key is None and settings.llm_api_key_file is not None:
            try:
                text = settings.llm_api_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"Cannot read TUNELENS_LLM_API_KEY_FILE ({settings.llm_api_key_file}): "
                    f"{exc.strerror or exc}.",
                    code="llm_key_unreadable",
                    details={"path": str(settings.llm_api_key_file)},
                ) from None
            key = SecretStr(text) if text else None
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout_s=settings.llm_timeout_s,
            max_tokens=settings.llm_max_tokens,
        )


@dataclass(frozen=True)
class Commentary:
    """What the page shows under "Commentary"."""

    text: str
    source: Literal["llm", "template"]
    notice: str | None = None
    model: str | None = None
    seconds: float = 0.0


class LlmFailure(Exception):
    """Why the endpoint gave no usable answer: ``reason`` is timeout, unreachable, http or
    malformed (each said in words by :func:`_failure_words`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- images -------------------------------------------------------------------------------------


def image_data_url(
    image: NDArray[np.uint8] | bytes, *, max_side: int = IMAGE_MAX_SIDE, quality: int = 85
) -> str:
    """A JPEG ``data:`` URL of an RGB array or encoded image bytes, shrunk to ``max_side``."""
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as opened:
            img = opened.convert("RGB")
    else:
        img = Image.fromarray(np.ascontiguousarray(image))
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def data_url_bytes(url: str) -> bytes:
    """The bytes inside a base64 ``data:`` URL."""
    _, _, payload = url.partition(",")
    return base64.b64decode(payload)


# --- prompts ------------------------------------------------------------------------------------


def _failure_words(failure: LlmFailure, t: Translator) -> str:
    """Why the model gave no commentary, in the listener's language."""
    if failure.reason == "timeout":
        return t.gettext("it did not answer in time")
    if failure.reason == "http":
        return t.gettext("it answered with HTTP error %(status)s", status=failure.detail or "?")
    if failure.reason == "malformed":
        return t.gettext("its reply could not be read")
    return t.gettext("it could not be reached")


def build_messages(
    reading: Reading,
    *,
    photo_url: str,
    heatmap_url: str | None = None,
    regions: Sequence[str] = (),
    lang: str = "en",
) -> list[dict[str, Any]]:
    """Short prompts in the spirit of Image2Genre's: one sentence on the photo and its mood,
    one or two on what the heatmap's hot regions show."""
    language = translator(lang).language.english_name
    genres = sorted(reading.genres.items(), key=lambda kv: -kv[1])[:2]
    system = (
        "You comment on why a photo suits the music picked for it. "
        f"Answer in {language}, in plain text, at most three short sentences, no lists."
    )
    parts: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": (
                f"Image 1 is a photo. Its mood was read as {reading.top_emotion} "
                f"(valence {reading.valence:+.2f}, arousal {reading.arousal:+.2f} on a -1..1 "
                f"scale) and its vibe as {' / '.join(g for g, _ in genres)}. In one sentence, "
                "describe the photo and say why that mood fits it."
            ),
        },
        {"type": "image_url", "image_url": {"url": photo_url}},
    ]
    if heatmap_url is not None:
        where = f" ({'; '.join(regions)})" if regions else ""
        parts += [
            {
                "type": "text",
                "text": (
                    "Image 2 is the same photo with a heatmap: red marks the regions the mood "
                    f"reading relied on most{where}. In one or two sentences, say what in those "
                    "regions carries the mood."
                ),
            },
            {"type": "image_url", "image_url": {"url": heatmap_url}},
        ]
    return [{"role": "system", "content": system}, {"role": "user", "content": parts}]


def parse_reply(body: Any) -> str:
    """The assistant's text from a chat-completions reply, or :class:`LlmFailure`."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LlmFailure("malformed", "no choices[0].message.content") from None
    if isinstance(content, list):  # some servers answer with content parts
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content.strip():
        raise LlmFailure("malformed", "empty content")
    return " ".join(content.split())


# --- the call -----------------------------------------------------------------------------------


async def _attempt(client: httpx.AsyncClient, config: LlmConfig, payload: dict[str, Any]) -> str:
    headers = {"Content-Type": "application/json"}
    if config.api_key is not None:
        headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
    try:
        response = await client.post(config.endpoint, json=payload, headers=headers)
    except httpx.TimeoutException:
        raise LlmFailure("timeout") from None
    except httpx.HTTPError as exc:
        raise LlmFailure("unreachable", type(exc).__name__) from None
    if response.status_code != 200:
        raise LlmFailure("http", str(response.status_code))
    try:
        body = response.json()
    except ValueError:
        raise LlmFailure("malformed", "not JSON") from None
    return parse_reply(body)


# many parameters on purpose: the web route and the tests call this flat keyword API, and the
# prompt's inputs go straight through to build_messages
async def commentary(  # noqa: PLR0913 - see above
    config: LlmConfig | None,
    reading: Reading,
    *,
    fallback_text: str,
    photo_url: str | None,
    heatmap_url: str | None = None,
    regions: Sequence[str] = (),
    lang: str = "en",
    transport: httpx.AsyncBaseTransport | None = None,
) -> Commentary:
    """Ask the model for a commentary; on any failure, the template text with a notice."""
    t = translator(lang)
    if config is None or photo_url is None:
        return Commentary(
            text=fallback_text,
            source="template",
            notice=t.gettext(
                "No commentary service is configured; this is tunelens's own explanation."
            ),
        )
    payload = {
        "model": config.model,
        "messages": build_messages(
            reading, photo_url=photo_url, heatmap_url=heatmap_url, regions=regions, lang=lang
        ),
        "max_tokens": config.max_tokens,
        "temperature": 0.4,
    }
    start = time.perf_counter()
    answer = await _ask(config, payload, transport)
    seconds = round(time.perf_counter() - start, 3)
    if isinstance(answer, str):
        return Commentary(text=answer, source="llm", model=config.model, seconds=seconds)
    return Commentary(
        text=fallback_text,
        source="template",
        notice=t.gettext(
            "The commentary service gave no usable answer (%(reason)s); this is tunelens's "
            "own explanation.",
            reason=_failure_words(answer, t),
        ),
        model=config.model,
        seconds=seconds,
    )


async def _ask(
    config: LlmConfig, payload: dict[str, Any], transport: httpx.AsyncBaseTransport | None
) -> str | LlmFailure:
    """The model's text, or the last failure after at most ``ATTEMPTS`` tries; only failures
    that may pass on their own (timeouts, unreachable, retryable HTTP statuses) are retried."""
    failure = LlmFailure("unreachable")
    timeout = httpx.Timeout(config.timeout_s)
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await _attempt(client, config, payload)
            except LlmFailure as exc:
                failure = exc
                log.warning(
                    "LLM commentary attempt %d/%d failed: %s%s",
                    attempt,
                    ATTEMPTS,
                    exc.reason,
                    f" ({exc.detail})" if exc.detail else "",
                    extra={"llm_model": config.model, "reason": exc.reason},
                )
                if not _worth_retrying(exc):
                    break
    return failure


def _worth_retrying(failure: LlmFailure) -> bool:
    return failure.reason in ("timeout", "unreachable") or (
        failure.reason == "http" and int(failure.detail or 0) in RETRY_STATUSES
    )
