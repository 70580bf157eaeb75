"""Labelled picture folders with a learnable colour signal, and isolated settings, for the
tests of the trained heads (``tests/heads``) and their training (``tests/training``).

Warm bright pictures are labelled amusement and dark blue ones sadness; the colour encoder's
embedding *is* brightness and chroma, so a linear head can learn the labels by design.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tunelens.core.settings import Settings
from tunelens.core.types import EncoderInfo

INFO = EncoderInfo(name="colour", pretrained=False, fallback=False, model_id="colour-v1")


def settings_for(home: Path, **overrides: object) -> Settings:
    """Settings whose data and cache live under ``home``, with the colour encoder."""
    values: dict[str, object] = {
        "data_dir": home / "data",
        "cache_dir": home / "cache",
        "allow_download": False,
        "encoder": "colour",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def picture(warm: bool, rng: np.random.Generator, size: int = 40) -> np.ndarray:
    """A warm bright picture or a dark blue one, with noise so no two are alike."""
    base = np.array([230, 170, 60]) if warm else np.array([20, 40, 110])
    base = base + rng.normal(0, 18, 3)
    return np.clip(base + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)


def labelled_folder(root: Path, *, n: int = 14, random_labels: bool = False) -> Path:
    """``n`` warm bright pictures labelled amusement and ``n`` dark blue ones labelled sadness
    (or, with ``random_labels``, the same pictures with coin-flip labels)."""
    rng = np.random.default_rng(7)
    for i in range(2 * n):
        warm = i % 2 == 0
        label = "amusement" if warm else "sadness"
        if random_labels:
            label = ("amusement", "sadness")[int(rng.integers(2))]
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture(warm, rng)).save(folder / f"p{i:03d}.png")
    return root
