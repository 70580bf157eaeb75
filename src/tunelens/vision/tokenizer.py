"""CLIP's tokenizer on the ``tokenizers`` library alone (no transformers at run time).

``tokenizer.json`` (written by the exporter from transformers' fast ``CLIPTokenizer``) already
carries CLIP's text cleaning: NFC, whitespace runs collapsed to one space, lower-case, CLIP's
split regex, byte-level BPE with the ``</w>`` end-of-word suffix, and
``<|startoftext|> … <|endoftext|>`` around each text. This wrapper adds truncation to the
context length (keeping the end token, as transformers does) and padding with the pad id; the
ids equal ``CLIPTokenizer(texts, padding=True, truncation=True, max_length=context_length)``.

Padding goes to the longest text of a batch, not to the full context length: CLIP's text
transformer is causal and pools at the first end token, so trailing padding never changes an
embedding, and short prompts run several times faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable

IntArray = NDArray[np.int64]
#: the end-of-text tokens CLIP-family tokenizers pad with
END_TOKENS = ("<|endoftext|>", "</s>")


class ClipTokenizer:
    """Texts -> ``(input_ids, attention_mask)`` int64 arrays for the CLIP text graph."""

    def __init__(self, path: Path, *, context_length: int, pad_id: int | None = None) -> None:
        """``pad_id`` None: the tokenizer file's own padding token, else its end-of-text token
        (CLIP pads with it; hub repositories' ``tokenizer.json`` often say nothing)."""
        # ~50 ms to import: paid on the first text embedding, never on the image path
        from tokenizers import Tokenizer  # noqa: PLC0415 - see above

        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ModelUnavailable(
                f"The tokenizer {path} cannot be read ({exc}); re-export or re-download it.",
                code="model_corrupt",
                details={"path": str(path)},
            ) from None
        if pad_id is None:
            pad_id = _default_pad_id(tokenizer, path)
        pad_token = tokenizer.id_to_token(pad_id)
        if pad_token is None:
            raise ModelUnavailable(
                f"The tokenizer {path} has no token with the pad id {pad_id}.",
                code="model_corrupt",
                details={"path": str(path)},
            )
        tokenizer.enable_truncation(max_length=context_length)
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self._tokenizer = tokenizer
        self.context_length = context_length
        self.pad_id = pad_id

    def encode(
        self, texts: Sequence[str], *, pad_to_context: bool = False
    ) -> tuple[IntArray, IntArray]:
        """Token ids and attention mask, both ``(len(texts), L)`` int64.

        ``L`` is the longest text in the batch (at most ``context_length``), or exactly
        ``context_length`` with ``pad_to_context=True``.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of strings, not one string")
        encodings = self._tokenizer.encode_batch(list(texts))
        if not encodings:
            empty = np.zeros((0, 0), dtype=np.int64)
            return empty, empty.copy()
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        extra = self.context_length - ids.shape[1]
        if pad_to_context and extra > 0:
            ids = np.pad(ids, ((0, 0), (0, extra)), constant_values=self.pad_id)
            mask = np.pad(mask, ((0, 0), (0, extra)), constant_values=0)
        return ids, mask


def _default_pad_id(tokenizer: Any, path: Path) -> int:
    """The padding id the tokenizer file declares, else the id of CLIP's end-of-text token."""
    padding = tokenizer.padding
    if isinstance(padding, dict) and isinstance(padding.get("pad_id"), int):
        return int(padding["pad_id"])
    for token in END_TOKENS:
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    raise ModelUnavailable(
        f"The tokenizer {path} declares no padding and has no end-of-text token "
        f"({', '.join(END_TOKENS)}) to pad with.",
        code="model_corrupt",
        details={"path": str(path)},
    )
