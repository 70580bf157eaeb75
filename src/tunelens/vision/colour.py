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
from tunelens.vision.perceptual import channel_values, edge_share, perceptual_features, share

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


_HUE_EDGES_F32 = tuple(np.float32(edge) for edge in _HUE_EDGES)


def _hue_bins(
    r: NDArray[np.float32], g: NDArray[np.float32], b: NDArray[np.float32]
) -> NDArray[np.uint8]:
    """The :data:`HUE_NAMES` bin of the HSV hue of chromatic pixels (max − min > 0).

    The same float32 hue as the textbook formula: ``(g − b) / delta`` lies in [−1, 1] there,
    where adding 6 to negatives is ``% 6.0`` to the bit at a tenth of its cost. The bin counts
    the edges at or below the hue, which is what ``np.digitize`` returns, without its binary
    search (six times slower on eight edges)."""
    maxc = np.maximum(np.maximum(r, g), b)
    safe = np.maximum(maxc - np.minimum(np.minimum(r, g), b), 1e-6)
    from_red = (g - b) / safe
    from_red = np.where(from_red < 0, from_red + 6.0, from_red)
    hue = np.where(
        maxc == r,
        from_red,
        np.where(maxc == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    hue *= 60.0
    bins = np.zeros(hue.shape, dtype=np.uint8)
    for edge in _HUE_EDGES_F32:
        bins += hue >= edge
    bins[bins == len(HUE_NAMES)] = 0  # red wraps around 360
    return bins


def _hue_share(
    rgb: NDArray[np.float32], weights: NDArray[np.float32]
) -> tuple[NDArray[np.float64], float, float]:
    """Weighted hue histogram (shares summing to 1), total weight and chromatic share.

    Only the pixels with a weight are binned: the histogram adds float64 weights one by one,
    where a zero adds nothing, so leaving them out changes no bit."""
    chromatic = weights > 0
    total = float(weights.sum())
    bins = _hue_bins(*(channel[chromatic] for channel in rgb))
    histogram = np.bincount(bins, weights=weights[chromatic], minlength=len(HUE_NAMES))
    hue_share = histogram / total if total > 0 else np.zeros(len(HUE_NAMES))
    return hue_share, total, share(chromatic)


def colour_stats(pixels: NDArray[np.uint8]) -> ColourStats:
    """Measure one RGB uint8 picture (any size; callers pass a thumbnail for speed).

    The channels are converted once into contiguous float32 planes, shared with
    :func:`perceptual_features`; the arithmetic is the per-pixel formulas', value for value."""
    values = channel_values(pixels)
    rgb = values / 255.0
    r, g, b = rgb
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    maxc = np.maximum(np.maximum(r, g), b)
    # chroma (max - min), closer to Munsell chroma than HSV saturation, which calls a
    # nearly black pixel fully saturated
    delta = maxc - np.minimum(np.minimum(r, g), b)
    sat = np.where(maxc > 0, delta / np.maximum(maxc, 1e-6), 0.0)
    # hue-histogram weight: HSV saturation of lit pixels saturated above 0.25, else 0
    weights = (sat * ((sat > 0.25) & (maxc > 0.1))).astype(np.float32)

    rg = (r - g) * 255.0
    yb = (0.5 * (r + g) - b) * 255.0
    m = math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(
        float(rg.mean()), float(yb.mean())
    )
    colourfulness = min(m / COLOURFULNESS_FULL, 1.0)

    hue_share, total, chroma_share = _hue_share(rgb, weights)
    warm = float(hue_share[0] + hue_share[1] + hue_share[2] + hue_share[7])
    cool = float(hue_share[4] + hue_share[5])
    warmth = (warm - cool) * min(1.0, chroma_share * 4.0)
    dominant = HUE_NAMES[int(np.argmax(hue_share))] if total > 0 and chroma_share > 0.05 else "grey"
    return ColourStats(
        brightness=float(luma.mean()),
        saturation=float(delta.mean()),
        colourfulness=colourfulness,
        warmth=warmth,
        contrast=min(float(luma.std()) * 2.0, 1.0),
        edge_density=edge_share(luma, 0.08),
        hue_histogram=tuple(float(x) for x in hue_share),
        dominant_hue=dominant,
        perceptual=perceptual_features(pixels, values),
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
