"""Which tensor of an ONNX graph is which: read from the graph, never assumed.

Graphs from different exporters name and shape their tensors differently: tunelens's own
exporter and transformers.js's repositories call them ``pixel_values`` → ``image_embeds`` and
``input_ids`` (+ ``attention_mask``) → ``text_embeds``; some text graphs take no attention mask
and a fixed 77-token sequence; fp16 graphs may take and give float16. This module looks at an
ONNX Runtime session's declared inputs and outputs and says which one plays which role, so the
encoder feeds exactly what the graph declares. A graph that does not fit is refused with a
``ModelUnavailable`` that names every tensor it found, instead of a runtime error on the first
picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunelens.core.errors import ModelUnavailable

#: output names that carry a projected image / text embedding, in order of preference
IMAGE_OUTPUTS = ("image_embeds", "image_features", "embeds", "embeddings", "embedding")
TEXT_OUTPUTS = ("text_embeds", "text_features", "embeds", "embeddings", "embedding")
#: the token-id input's names, and the attention mask's
TEXT_IDS = ("input_ids", "text", "tokens")
TEXT_MASK = "attention_mask"

_FLOAT_TYPES: dict[str, type[np.floating[Any]]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
}
_INT_TYPES: dict[str, type[np.integer[Any]]] = {
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


@dataclass(frozen=True)
class ImageGraph:
    """The image tower's one input (float ``[N, 3, H, W]``) and its embedding output."""

    input: str
    input_type: type[np.floating[Any]]
    output: str
    #: the embedding width when the graph declares it (else learnt from a first run)
    width: int | None
    #: the square side the graph was exported for, when fixed in the graph
    side: int | None


@dataclass(frozen=True)
class TextGraph:
    """The text tower's token ids input, its attention mask (if it takes one) and output."""

    ids: str
    ids_type: type[np.integer[Any]]
    mask: str | None
    output: str
    width: int | None
    #: the fixed sequence length, when the graph has one (pad every text to it)
    length: int | None


def describe(args: Sequence[Any]) -> str:
    """``name type [dims]`` for each tensor, as the error messages show them."""
    parts = []
    for arg in args:
        dims = ", ".join(str(d) if d is not None else "?" for d in (arg.shape or []))
        kind = str(arg.type).removeprefix("tensor(").removesuffix(")")
        parts.append(f"{arg.name} {kind} [{dims}]")
    return "; ".join(parts) if parts else "none"


def _static(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def _refuse(path: Path, tower: str, session: Any, needs: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"The ONNX graph {path} does not fit a CLIP {tower} tower: it has inputs "
        f"[{describe(session.get_inputs())}] and outputs [{describe(session.get_outputs())}]; "
        f"tunelens needs {needs}.",
        code="model_corrupt",
        details={
            "path": str(path),
            "inputs": [i.name for i in session.get_inputs()],
            "outputs": [o.name for o in session.get_outputs()],
        },
    )


def _embedding_output(outputs: Sequence[Any], names: Sequence[str]) -> Any | None:
    """The first output, by preference order of ``names``, that is a 2-D float tensor."""
    by_name = {o.name: o for o in outputs}
    for name in names:
        out = by_name.get(name)
        if out is not None and out.type in _FLOAT_TYPES and len(out.shape or []) == 2:
            return out
    return None


def image_graph(session: Any, path: Path) -> ImageGraph:
    """The roles of an image tower's tensors; ``ModelUnavailable`` when it has none that fit."""
    needs = "one float input [N, 3, H, W] and a 2-D embedding output named one of " + ", ".join(
        IMAGE_OUTPUTS
    )
    inputs = session.get_inputs()
    output = _embedding_output(session.get_outputs(), IMAGE_OUTPUTS)
    if len(inputs) != 1 or output is None:
        raise _refuse(path, "image", session, needs)
    pixels = inputs[0]
    shape = list(pixels.shape or [])
    if pixels.type not in _FLOAT_TYPES or len(shape) != 4 or shape[1] not in (3, "3"):
        raise _refuse(path, "image", session, needs)
    height, width = _static(shape[2]), _static(shape[3])
    return ImageGraph(
        input=pixels.name,
        input_type=_FLOAT_TYPES[pixels.type],
        output=output.name,
        width=_static(output.shape[-1]),
        side=height if height is not None and height == width else None,
    )


def text_graph(session: Any, path: Path) -> TextGraph:
    """The roles of a text tower's tensors; ``ModelUnavailable`` when they do not fit."""
    needs = (
        f"an integer [N, L] token-ids input named one of {', '.join(TEXT_IDS)}, optionally "
        f"an {TEXT_MASK} input, nothing else, and a 2-D embedding output named one of "
        + ", ".join(TEXT_OUTPUTS)
    )
    inputs = {i.name: i for i in session.get_inputs()}
    output = _embedding_output(session.get_outputs(), TEXT_OUTPUTS)
    ids = next((inputs[name] for name in TEXT_IDS if name in inputs), None)
    mask = inputs.get(TEXT_MASK)
    expected = {arg.name for arg in (ids, mask) if arg is not None}
    if ids is None or output is None or set(inputs) != expected:
        raise _refuse(path, "text", session, needs)
    shape = list(ids.shape or [])
    if ids.type not in _INT_TYPES or len(shape) != 2:
        raise _refuse(path, "text", session, needs)
    if mask is not None and (mask.type not in _INT_TYPES or len(mask.shape or []) != 2):
        raise _refuse(path, "text", session, needs)
    return TextGraph(
        ids=ids.name,
        ids_type=_INT_TYPES[ids.type],
        mask=mask.name if mask is not None else None,
        output=output.name,
        width=_static(output.shape[-1]),
        length=_static(shape[1]),
    )
