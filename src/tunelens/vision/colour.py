"""The weight-free colour encoder: mood from colour and light when no CLIP weights exist.

It measures what colour-emotion research links to feeling, on a 256-px thumbnail:

* brightness B (mean Rec. 601 luma) and saturation S (mean chroma, max − min of RGB).
  Valdez & Mehrabian (1994, J. Exp. Psych.: General 123(4)) regressed pleasure and arousal on
  Munsell brightness and saturation with standardised weights: ``P = .69 B + .22 S`` and
  ``A = -.31 B + .60 S``. Those two equations are the core of :func:`valence_arousal`.
* colourfulness (Hasler & Süsstrunk 2003, "Measuring colourfulness in natural images"):
  ``M = σ_rgyb + 0.3 μ_rgyb``; vivid pictures read as more pleasant and more arousing
  (Wilms & Oberfeld 2018 found chroma raises both valence and arousal ratings).
* warmth: share of saturated warm hues (red–yellow) minus cool hues (cyan–blue). Warm hues
  raise arousal (Wilms & Oberfeld 2018; Valdez & Mehrabian's hue effect is small), so the
  weight is small.
* RMS contrast and edge density: busy, high-contrast scenes are more arousing
  (Machajdik & Hanbury 2010 use both as affective image features).

Because those weights are standardised, each statistic is first turned into a z-score against
the mean and spread of ordinary photographs (``REFERENCE``), so a typical photo reads near
(0, 0). Refinements beyond Valdez & Mehrabian are small and signed by the cited findings; none
of these numbers was fitted to emotion labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.base import FloatArray, l2_normalise
from tunelens.vision.imaging import LoadedImage, thumbnail
from tunelens.vision.perceptual import perceptual_features

HUE_NAMES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta")
# upper bounds (degrees) of each named hue bin, red wraps around 360
_HUE_EDGES = (15.0, 45.0, 70.0, 160.0, 200.0, 255.0, 290.0, 345.0)

#: Hasler–Süsstrunk M at which a picture counts as "extremely colourful" (their Table 1: ~109)
COLOURFULNESS_FULL = 109.0
#: mean and standard deviation of each statistic over ordinary photographs (the 47 shared
#: reference photos: landscapes, animals, portraits, food, city, night), used to standardise
#: the statistics before Valdez & Mehrabian's standardised regression weights apply
REFERENCE: dict[str, tuple[float, float]] = {
    "brightness": (0.42, 0.13),
    "saturation": (0.19, 0.12),
    "colourfulness": (0.45, 0.25),
    "contrast": (0.41, 0.12),
    "edge_density": (0.15, 0.13),
}
#: squashes the weighted z-score sum into [-1, 1]; a picture 2 SD brighter reads valence ≈ 0.6
GAIN = 0.5


@dataclass(frozen=True)
class ColourStats:
    """Colour and light statistics of one picture, each in [0, 1] except warmth in [-1, 1]."""

    brightness: float
    saturation: float
    colourfulness: float
    warmth: float
    contrast: float
    edge_density: float
    hue_histogram: tuple[float, ...]
    dominant_hue: str
    #: CIELAB features by name (:mod:`tunelens.vision.perceptual`), what the fitted colour
    #: reader reads; empty only for statistics built by hand
    perceptual: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        for key, value in asdict(self).items():
            if key not in ("hue_histogram", "perceptual"):
                out[key] = value
        return out


def _hue_saturation_value(
    rgb: NDArray[np.float32],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # channel-wise maximum/minimum: the same values as max(axis=-1), several times faster
    maxc = np.maximum(np.maximum(r, g), b)
    minc = np.minimum(np.minimum(r, g), b)
    delta = maxc - minc
    sat = np.where(maxc > 0, delta / np.maximum(maxc, 1e-6), 0.0).astype(np.float32)
    safe = np.maximum(delta, 1e-6)
    hue = np.where(
        maxc == r,
        ((g - b) / safe) % 6.0,
        np.where(maxc == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    hue = (hue * 60.0).astype(np.float32)
    return hue, sat, maxc.astype(np.float32)


def colour_stats(pixels: NDArray[np.uint8]) -> ColourStats:
    """Measure one RGB uint8 picture (any size; callers pass a thumbnail for speed)."""
    rgb = pixels.astype(np.float32) / 255.0
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    hue, sat, val = _hue_saturation_value(rgb)

    lit = val > 0.1
    # chroma (max - min), closer to Munsell chroma than HSV saturation, which calls a
    # nearly black pixel fully saturated
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    saturation = float((np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).mean())

    rg = (rgb[..., 0] - rgb[..., 1]) * 255.0
    yb = (0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]) * 255.0
    m = math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(
        float(rg.mean()), float(yb.mean())
    )
    colourfulness = min(m / COLOURFULNESS_FULL, 1.0)

    chromatic = (sat > 0.25) & lit
    weights = (sat * chromatic).astype(np.float32)
    total = float(weights.sum())
    bins = np.digitize(hue, _HUE_EDGES) % len(HUE_NAMES)
    histogram = np.bincount(bins.ravel(), weights=weights.ravel(), minlength=len(HUE_NAMES))
    share = histogram / total if total > 0 else np.zeros(len(HUE_NAMES))
    warm = float(share[0] + share[1] + share[2] + share[7])
    cool = float(share[4] + share[5])
    chroma_share = float(chromatic.mean())
    warmth = (warm - cool) * min(1.0, chroma_share * 4.0)

    contrast = min(float(luma.std()) * 2.0, 1.0)
    gy = np.abs(np.diff(luma, axis=0))[:, :-1]
    gx = np.abs(np.diff(luma, axis=1))[:-1, :]
    edge_density = float((np.hypot(gx, gy) > 0.08).mean()) if gx.size else 0.0

    dominant = HUE_NAMES[int(np.argmax(share))] if total > 0 and chroma_share > 0.05 else "grey"
    return ColourStats(
        brightness=float(luma.mean()),
        saturation=saturation,
        colourfulness=colourfulness,
        warmth=warmth,
        contrast=contrast,
        edge_density=edge_density,
        hue_histogram=tuple(float(x) for x in share),
        dominant_hue=dominant,
        perceptual=perceptual_features(pixels),
    )


def valence_arousal(stats: ColourStats) -> tuple[float, float]:
    """Valence and arousal in [-1, 1] from colour statistics (formula in the module doc)."""
    z = {name: (getattr(stats, name) - mean) / sd for name, (mean, sd) in REFERENCE.items()}
    pleasure = (
        0.69 * z["brightness"]
        + 0.22 * z["saturation"]
        + 0.10 * z["colourfulness"]
        + 0.05 * stats.warmth
    )
    arousal = (
        -0.31 * z["brightness"]
        + 0.60 * z["saturation"]
        + 0.10 * z["colourfulness"]
        + 0.25 * stats.warmth
        + 0.15 * z["contrast"]
        + 0.20 * z["edge_density"]
    )
    return math.tanh(GAIN * pleasure), math.tanh(GAIN * arousal)


def stats_vector(stats: ColourStats) -> NDArray[np.float32]:
    """The statistics as a fixed-order vector (the colour encoder's raw embedding)."""
    head = [
        stats.brightness,
        stats.saturation,
        stats.colourfulness,
        (stats.warmth + 1.0) / 2.0,
        stats.contrast,
        stats.edge_density,
    ]
    return np.asarray(head + list(stats.hue_histogram), dtype=np.float32)


class ColourEncoder:
    """Encoder protocol over colour statistics; needs no weights and no network."""

    name = "colour"
    #: its entry in :data:`tunelens.vision.registry.ENCODERS`
    kind = "colour"
    dim = 6 + len(HUE_NAMES)
    is_pretrained = False
    supports_text = False
    model_id = "colour-v1"

    def stats(self, images: Sequence[LoadedImage]) -> list[ColourStats]:
        return [colour_stats(thumbnail(image)) for image in images]

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        return self.embed_stats(self.stats(images))

    def embed_stats(self, stats: Sequence[ColourStats]) -> FloatArray:
        """The embeddings of pictures whose statistics are already measured (the engine
        measures them for every reading anyway)."""
        rows = [stats_vector(s) for s in stats]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(np.stack(rows))

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        raise ModelUnavailable(
            "the colour encoder cannot read text; text features need CLIP weights",
            code="text_unsupported",
        )
