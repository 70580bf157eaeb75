"""The encoder registry: each kind of encoder, how it is opened and what it can do.

Everything that depends on the kind of encoder — whether there is a text tower for zero-shot
heads and song-text similarity, whether Grad-CAM can look inside it, whether its embedding is
the colour statistics the reader measures anyway — is read from here, so no other module
checks an encoder's class or name. Adding an encoder is one module plus one line in
:data:`ENCODERS`. Where the weights come from (a local folder, the cache, the hub) is not the
registry's business: :mod:`tunelens.modelhub.loader` resolves the folder and calls ``open``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from tunelens.core.settings import Settings
from tunelens.vision.base import Encoder, FloatArray
from tunelens.vision.colour import ColourEncoder, ColourStats
from tunelens.vision.onnx_clip import ClipOnnxEncoder
from tunelens.vision.torch_clip import ClipTorchEncoder


@runtime_checkable
class StatsEmbedder(Protocol):
    """An encoder whose embedding is computed from already-measured colour statistics."""

    def embed_stats(self, stats: Sequence[ColourStats]) -> FloatArray: ...


@dataclass(frozen=True)
class EncoderKind:
    """One kind of encoder and its capabilities."""

    name: str
    #: builds the encoder from a model folder (None for weight-free kinds) and the settings
    open: Callable[[Path | None, Settings], Encoder]
    #: needs a model folder (weights) to open
    needs_weights: bool
    #: has a text tower (zero-shot heads, picture↔song text similarity)
    text_tower: bool
    #: Grad-CAM can read its attention (needs the torch extra); others get occlusion saliency
    gradcam: bool
    #: its embedding is the colour statistics the reader measures anyway (measure them once)
    embeds_colour_stats: bool
    #: how a picture is prepared for it, in words (``tunelens models info``)
    preprocessing: str


def _open_colour(_folder: Path | None, _settings: Settings) -> Encoder:
    return ColourEncoder()


def _open_clip_onnx(folder: Path | None, settings: Settings) -> Encoder:
    """Either folder layout (tunelens export or transformers.js) at the asked precision."""
    if folder is None:
        raise ValueError("the clip encoder needs a model folder")
    precision = settings.model_precision or settings.model_variant or "fp32"
    return ClipOnnxEncoder.from_dir(folder, variant=precision, threads=settings.onnx_threads)


def _open_clip_torch(folder: Path | None, settings: Settings) -> Encoder:
    if folder is None:
        raise ValueError("the clip-torch encoder needs a checkpoint folder")
    return ClipTorchEncoder.from_checkpoint(folder, threads=settings.onnx_threads)


ENCODERS: dict[str, EncoderKind] = {
    "colour": EncoderKind(
        "colour", _open_colour, False, False, False, True, "256 px thumbnail, HSV/Lab statistics"
    ),
    "clip": EncoderKind(
        "clip", _open_clip_onnx, True, True, False, False, "the folder's resize, crop, mean/std"
    ),
    "clip-torch": EncoderKind(
        "clip-torch", _open_clip_torch, True, True, True, False, "checkpoint's preprocessor"
    ),
}
#: what an encoder outside the registry (a test double, a benchmark baseline) is assumed to be
UNREGISTERED = EncoderKind(
    "unregistered", _open_colour, False, True, False, False, "the encoder's own"
)


def unwrap(encoder: Encoder) -> Encoder:
    """The encoder inside any wrappers (micro-batching) that expose it as ``inner``."""
    inner = getattr(encoder, "inner", None)
    while isinstance(inner, Encoder):
        encoder = inner
        inner = getattr(encoder, "inner", None)
    return encoder


def kind_of(encoder: Encoder) -> EncoderKind:
    """The registry entry of an encoder, looking through wrappers."""
    name = getattr(unwrap(encoder), "kind", None)
    return ENCODERS.get(name, UNREGISTERED) if isinstance(name, str) else UNREGISTERED


def stats_embedder(encoder: Encoder) -> StatsEmbedder | None:
    """The encoder itself when its embedding comes from colour statistics, else None."""
    inner = unwrap(encoder)
    if kind_of(inner).embeds_colour_stats and isinstance(inner, StatsEmbedder):
        return inner
    return None
