"""Pick the encoder a process runs with, and say so when it is not the real thing.

``load_encoder`` returns the encoder plus user-facing notices; the CLI prints them as a
banner, ``/health`` and the web page show them. ``auto`` prefers CLIP and falls back to the
weight-free colour encoder when no weights can be found or fetched.
"""

from __future__ import annotations

from typing import Literal

from tunelens.core.errors import DownloadError, ModelUnavailable
from tunelens.core.settings import Settings
from tunelens.vision.base import Encoder

RANDOM_WEIGHTS_NOTICE = (
    "The CLIP model {name} has random weights: readings are meaningless, for testing only."
)
FALLBACK_NOTICE = (
    "No usable CLIP weights ({reason}); using the weight-free colour encoder — readings come "
    "from colour and light only."
)


def load_clip(settings: Settings) -> tuple[Encoder, list[str]]:
    """Resolve (cache / download) and load the ONNX CLIP the settings describe."""
    from tunelens.modelhub.download import resolve_model_dir
    from tunelens.vision.onnx_clip import ClipOnnxEncoder

    model_dir = resolve_model_dir(settings)
    encoder = ClipOnnxEncoder.from_dir(
        model_dir, variant=settings.model_variant, threads=settings.onnx_threads
    )
    notices: list[str] = []
    if not encoder.is_pretrained:
        notices.append(RANDOM_WEIGHTS_NOTICE.format(name=encoder.name))
    return encoder, notices


def load_colour() -> Encoder:
    from tunelens.vision.colour import ColourEncoder

    encoder: Encoder = ColourEncoder()
    return encoder


def load_encoder(
    choice: Literal["auto", "clip", "colour"], settings: Settings
) -> tuple[Encoder, list[str]]:
    """The encoder for ``choice`` and the notices to show users about it.

    ``clip`` raises ``ModelUnavailable`` / ``DownloadError`` when CLIP cannot be loaded;
    ``auto`` turns those into a fallback to the colour encoder with a loud notice.
    """
    if choice == "colour":
        return load_colour(), []
    if choice == "clip":
        return load_clip(settings)
    if choice != "auto":
        raise ValueError(f"unknown encoder choice {choice!r}; use auto, clip or colour")
    try:
        return load_clip(settings)
    except (ModelUnavailable, DownloadError) as exc:
        return load_colour(), [FALLBACK_NOTICE.format(reason=exc.message.rstrip("."))]
