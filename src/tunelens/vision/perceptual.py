"""Perceptual colour and light features of a picture, the inputs of the fitted colour reader.

Measured on the same 256-px thumbnail as :mod:`tunelens.vision.colour`, in CIELAB (sRGB,
D65), because its lightness L* and chroma C* follow what people see far better than RGB
brightness or HSV saturation (HSV calls a nearly black pixel fully saturated). Every feature
is a plain number with a name, grouped by what it measures, so the fit
(:mod:`tunelens.training.affect_fit`) can measure each group's worth on held-out themes and
the reader (:mod:`tunelens.reading.colour_model`) can pick the ones the fit kept by name.

Groups (:data:`FEATURE_GROUPS`):

* lightness: mean L*, and the shares of dark (L* < 25) and bright (L* > 75) pixels;
* contrast: spread of L* over pixels, and spread of the mean L* of the 3 × 3 blocks
  (uneven light: a lit patch in shadow, a bright sky over a dark land);
* chroma: mean and spread of C*, and Hasler & Süsstrunk's (2003) colourfulness
  ``σ_rgyb + 0.3 μ_rgyb`` (/100);
* hue: shares of the picture covered by vivid (C* > 20) warm (red–yellow), green and blue
  pixels, and a saturation-weighted warmth (warm minus cool, by chroma);
* variety: entropy of the chroma-weighted hue histogram (12 bins of 30°), 0 for a
  one-colour or grey picture, 1 for all hues equally;
* texture: share of edge pixels (L* gradient > 8);
* layout: upper third minus lower third lightness, share of sky-blue pixels in the upper
  third, and centre (middle half of each side) minus surround, for L* and for C*.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: the features of each group, in the order :func:`perceptual_features` reports them
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "lightness": ("lightness", "dark_share", "bright_share"),
    "contrast": ("lightness_spread", "block_lightness_spread"),
    "chroma": ("chroma", "chroma_spread", "colourfulness"),
    "hue": ("warm_share", "green_share", "blue_share", "warmth"),
    "variety": ("hue_variety",),
    "texture": ("edge_density",),
    "layout": ("upper_minus_lower", "sky_share", "centre_minus_surround", "centre_chroma"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(name for group in FEATURE_GROUPS.values() for name in group)

#: sRGB (linear) → XYZ, and the D65 white point
_RGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
    dtype=np.float32,
)
_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
#: C* above which a pixel's hue counts (below it, hue is noise on a grey)
CHROMATIC = 15.0
VIVID = 20.0
HUE_BINS = 12
#: CIELAB hue angles (degrees): warm = red…yellow, green, blue = cyan…blue
_WARM = ((0.0, 105.0), (345.0, 360.0))
_GREEN = ((105.0, 170.0),)
_BLUE = ((200.0, 300.0),)
_COOL = ((170.0, 300.0),)


def srgb_to_lab(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """CIELAB (L*, a*, b*) of RGB uint8 pixels, D65; shape ``(..., 3)``."""
    c = pixels.astype(np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = (linear @ _RGB_TO_XYZ.T) / _WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def _in_ranges(
    hue: NDArray[np.float32], ranges: tuple[tuple[float, float], ...]
) -> NDArray[np.bool_]:
    mask = np.zeros(hue.shape, dtype=bool)
    for low, high in ranges:
        mask |= (hue >= low) & (hue < high)
    return mask


def _colourfulness(pixels: NDArray[np.uint8]) -> float:
    rgb = pixels.astype(np.float32)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = float(np.hypot(rg.std(), yb.std()))
    mean = float(np.hypot(rg.mean(), yb.mean()))
    return (spread + 0.3 * mean) / 100.0


def _hue_features(chroma: NDArray[np.float32], hue: NDArray[np.float32]) -> dict[str, float]:
    vivid = chroma > VIVID
    weights = np.where(chroma > CHROMATIC, chroma, 0.0)
    total = float(weights.sum())
    warm = float(weights[_in_ranges(hue, _WARM)].sum()) / total if total > 0 else 0.0
    cool = float(weights[_in_ranges(hue, _COOL)].sum()) / total if total > 0 else 0.0
    chromatic_share = float((chroma > CHROMATIC).mean())
    bins = np.minimum((hue / (360.0 / HUE_BINS)).astype(np.int64), HUE_BINS - 1)
    histogram = np.bincount(bins.ravel(), weights=weights.ravel(), minlength=HUE_BINS)
    variety = 0.0
    if total > 0:
        p = histogram[histogram > 0] / total
        variety = float(-(p * np.log(p)).sum() / np.log(HUE_BINS))
    return {
        "warm_share": float((vivid & _in_ranges(hue, _WARM)).mean()),
        "green_share": float((vivid & _in_ranges(hue, _GREEN)).mean()),
        "blue_share": float((vivid & _in_ranges(hue, _BLUE)).mean()),
        "warmth": (warm - cool) * min(1.0, 3.0 * chromatic_share),
        "hue_variety": variety,
    }


def _layout_features(
    lightness: NDArray[np.float32], chroma: NDArray[np.float32], hue: NDArray[np.float32]
) -> dict[str, float]:
    height, width = lightness.shape
    third = max(1, height // 3)
    upper, lower = lightness[:third], lightness[height - third :]
    sky = (chroma[:third] > 10.0) & _in_ranges(hue[:third], _BLUE) & (upper > 40.0)
    centre = np.zeros(lightness.shape, dtype=bool)
    centre[height // 4 : height - height // 4, width // 4 : width - width // 4] = True
    surround = ~centre
    if not surround.any():  # a picture too small to have a surround
        surround = centre
    blocks = [
        float(
            lightness[
                i * height // 3 : (i + 1) * height // 3, j * width // 3 : (j + 1) * width // 3
            ].mean()
        )
        for i in range(3)
        for j in range(3)
        if height >= 3 and width >= 3
    ]
    return {
        "upper_minus_lower": float(upper.mean() - lower.mean()) / 100.0,
        "sky_share": float(sky.mean()),
        "centre_minus_surround": float(lightness[centre].mean() - lightness[surround].mean())
        / 100.0,
        "centre_chroma": float(chroma[centre].mean() - chroma[surround].mean()) / 100.0,
        "block_lightness_spread": float(np.std(blocks)) / 100.0 if blocks else 0.0,
    }


def perceptual_features(pixels: NDArray[np.uint8]) -> dict[str, float]:
    """Every feature of :data:`FEATURE_NAMES` for one RGB uint8 picture (pass a thumbnail:
    the features are means and shares, and 256 px keeps this at a few milliseconds)."""
    lab = srgb_to_lab(pixels)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    hue = ((np.degrees(np.arctan2(b, a)) + 360.0) % 360.0).astype(np.float32)
    gy = np.abs(np.diff(lightness, axis=0))[:, :-1]
    gx = np.abs(np.diff(lightness, axis=1))[:-1, :]
    edges = float((np.hypot(gx, gy) > 8.0).mean()) if gx.size else 0.0
    out = {
        "lightness": float(lightness.mean()) / 100.0,
        "dark_share": float((lightness < 25.0).mean()),
        "bright_share": float((lightness > 75.0).mean()),
        "lightness_spread": float(lightness.std()) / 100.0,
        "chroma": float(chroma.mean()) / 100.0,
        "chroma_spread": float(chroma.std()) / 100.0,
        "colourfulness": _colourfulness(pixels),
        "edge_density": edges,
        **_hue_features(chroma, hue),
        **_layout_features(lightness, chroma, hue),
    }
    return {name: out[name] for name in FEATURE_NAMES}
