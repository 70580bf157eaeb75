"""Scores → probabilities, the way every head in tunelens turns logits into an answer.

Shared by the trained heads here and the zero-shot heads of :mod:`tunelens.reading`, so a
trained head and CLIP's own scoring can never drift apart in how they normalise.
"""

from __future__ import annotations

import numpy as np

from tunelens.vision.base import FloatArray


def softmax(logits: FloatArray, axis: int = -1) -> FloatArray:
    """Softmax along ``axis``, shifted by the maximum so large logits cannot overflow."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    probabilities: FloatArray = (exp / exp.sum(axis=axis, keepdims=True)).astype(np.float32)
    return probabilities
