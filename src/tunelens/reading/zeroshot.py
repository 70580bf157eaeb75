"""Zero-shot reading heads: picture embedding → probabilities over a vocabulary, untrained.

Each vocabulary term gets one class vector, the normalised mean of its prompt-ensemble text
embeddings (Radford et al. 2021, §3.1.4: ensembling prompts beats a single prompt). The class
matrices cost one pass of the text tower, so they are computed once per (model, vocabulary)
pair and cached on disk keyed by the model id and the vocabulary file's hash; a reworded prompt
or a new model can never reuse a stale matrix.

Trained heads (:mod:`tunelens.heads.linear`) replace these per task once they earn it.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from tunelens.core.atomic import write_atomic
from tunelens.core.vocab import Vocabulary
from tunelens.heads.softmax import softmax
from tunelens.vision.base import Encoder, FloatArray, l2_normalise

log = logging.getLogger(__name__)

#: CLIP's learned logit scale is ≈100; softmax(100·cos) is how CLIP itself scores classes
DEFAULT_LOGIT_SCALE = 100.0


class ZeroShotHeads:
    """Class matrices for every vocabulary, built from an encoder's text tower."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None) -> None:
        if not encoder.supports_text:
            raise ValueError(f"encoder {encoder.name} has no text tower for zero-shot heads")
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.logit_scale = float(getattr(encoder, "logit_scale", DEFAULT_LOGIT_SCALE))
        self._matrices: dict[str, FloatArray] = {}

    def _cache_path(self, vocab: Vocabulary) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / "heads" / f"{self.encoder.model_id}-{vocab.kind}-{vocab.digest}.npz"

    def class_matrix(self, vocab: Vocabulary) -> FloatArray:
        """(n_terms, dim) matrix of class vectors, from memory, disk cache or the text tower."""
        if vocab.kind in self._matrices:
            return self._matrices[vocab.kind]
        path = self._cache_path(vocab)
        matrix = self._load(path, vocab) if path is not None else None
        if matrix is None:
            matrix = self._compute(vocab)
            if path is not None:
                self._save(path, matrix)
        self._matrices[vocab.kind] = matrix
        return matrix

    def _load(self, path: Path, vocab: Vocabulary) -> FloatArray | None:
        """The cached matrix, if it is there, readable and of this vocabulary's shape."""
        if not path.exists():
            return None
        try:
            with np.load(path) as data:
                loaded: FloatArray = data["classes"].astype(np.float32)
        except (OSError, ValueError, KeyError):
            log.warning("ignoring unreadable head cache %s", path)
            return None
        return loaded if loaded.shape == (len(vocab.terms), self.encoder.dim) else None

    def _compute(self, vocab: Vocabulary) -> FloatArray:
        rows = []
        for term in vocab.terms:
            prompts = term.prompts(vocab.templates)
            embedded = self.encoder.embed_texts(prompts)
            rows.append(embedded.mean(axis=0))
        return l2_normalise(np.stack(rows).astype(np.float32))

    @staticmethod
    def _save(path: Path, matrix: FloatArray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, classes=matrix)
        try:
            write_atomic(path, buffer.getvalue(), durable=False)  # a cache: rebuilt if lost
        except OSError as exc:  # a read-only or full cache only costs speed
            log.warning("could not cache head matrix at %s: %s", path, exc)

    def probabilities(
        self, embeddings: FloatArray, vocab: Vocabulary, temperature: float = 1.0
    ) -> FloatArray:
        """Softmax over the vocabulary of ``logit_scale · cos / temperature``."""
        logits = (embeddings @ self.class_matrix(vocab).T) * (self.logit_scale / temperature)
        return softmax(logits.astype(np.float32))
