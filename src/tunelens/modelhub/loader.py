"""Open the encoder a process runs with, and say so when it is not the real thing.

``load_encoder`` resolves where the weights are (a local folder, the cache, or a download —
:mod:`tunelens.modelhub.download`) and opens them through the encoder registry. It returns
the encoder plus notices for the operator; the CLI prints them as a banner, ``/health`` and
the admin page show them. ``auto`` prefers CLIP and falls back to the weight-free colour
encoder when no weights can be found or fetched.
"""

from __future__ import annotations

from typing import Literal

from tunelens.core.errors import DownloadError, ModelUnavailable
from tunelens.core.settings import Settings
from tunelens.modelhub.download import resolve_model_dir
from tunelens.vision.base import Encoder
from tunelens.vision.registry import ENCODERS

RANDOM_WEIGHTS_NOTICE = (
    "The CLIP model {name} has random weights: readings are meaningless, for testing only."
)
FALLBACK_NOTICE = (
    "No usable CLIP weights ({reason}); using the weight-free colour encoder — readings come "
    "from colour and light only."
)


def load_clip(settings: Settings) -> tuple[Encoder, list[str]]:
    """Resolve (cache / download) and load the ONNX CLIP the settings describe."""
    encoder = ENCODERS["clip"].open(resolve_model_dir(settings), settings)
    notices: list[str] = []
    if not encoder.is_pretrained:
        notices.append(RANDOM_WEIGHTS_NOTICE.format(name=encoder.name))
    return encoder, notices


def load_colour(settings: Settings) -> Encoder:
    return ENCODERS["colour"].open(None, settings)


def load_encoder(
    choice: Literal["auto", "clip", "colour"], settings: Settings
) -> tuple[Encoder, list[str]]:
    """The encoder for ``choice`` and the notices to show operators about it.

    ``clip`` raises ``ModelUnavailable`` / ``DownloadError`` when CLIP cannot be loaded;
    ``auto`` turns those into a fallback to the colour encoder with a loud notice.
    """
    if choice == "colour":
        return load_colour(settings), []
    if choice == "clip":
        return load_clip(settings)
    if choice != "auto":
        raise ValueError(f"unknown encoder choice {choice!r}; use auto, clip or colour")
    try:
        return load_clip(settings)
    except (ModelUnavailable, DownloadError) as exc:
        return load_colour(settings), [FALLBACK_NOTICE.format(reason=exc.message.rstrip("."))]
