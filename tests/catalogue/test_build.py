"""Building a catalogue end to end, with a real (tiny) text encoder."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.catalogue.helpers import TIDY_HEADER, tidy_row, write
from tunelens.catalogue.build import BuildOptions, build_catalog, catalog_info
from tunelens.catalogue.index import CatalogueIndex


class HashingTextEncoder:
    """A real (tiny, deterministic) text encoder: bag of hashed words, L2-normalised."""

    name = "hashing-test"
    dim = 16
    is_pretrained = False
    supports_text = True
    model_id = "hashing-test-v1"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed_images(self, images: Sequence[object]) -> np.ndarray:
        raise NotImplementedError

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hashlib.sha256(word.encode()).digest()[0] % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def test_build_with_text_encoder_and_info(tmp_path: Path) -> None:
    lines = [TIDY_HEADER] + [
        tidy_row(f"id{i}", name=f"Song {i}", artist=f"Band {i % 4}", energy=f"{i / 10:.1f}")
        for i in range(10)
    ]
    lines.append(tidy_row("id0", playlist_name="Other"))  # duplicate id
    lines.append(tidy_row("bad", energy="x"))
    source = write(tmp_path / "s.csv", lines)
    encoder = HashingTextEncoder()
    messages: list[str] = []
    result = build_catalog(
        source,
        tmp_path / "idx",
        encoder=encoder,
        progress=messages.append,
        options=BuildOptions(text_batch_size=4),
    )
    assert (result.tracks, result.rows_read, result.merged_by_id) == (10, 12, 1)
    assert [p.line for p in result.problems] == [13]
    assert encoder.batches == [4, 4, 2]
    assert result.text_model_id == "hashing-test-v1"
    assert set(result.timings) >= {"load", "embed", "index", "save", "total"}
    assert messages and "built 10 tracks" in result.summary()
    loaded = CatalogueIndex.load(result.out_dir, expected_text_model_id="hashing-test-v1")
    text = loaded.text_embeddings_for("hashing-test-v1")
    assert text is not None and text.shape == (10, 16)
    info = catalog_info(result.out_dir)
    assert info["count"] == 10 and info["genres"] == {"pop": 10}
    assert info["text_model_id"] == "hashing-test-v1" and info["size_bytes"] > 0
    assert info["hash"] == result.content_hash and info["build"]["rows_read"] == 12
