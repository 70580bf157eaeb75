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

#: ``c / 255`` for every uint8 value c, by the same float32 expression a whole picture went
#: through, so looking a channel up gives the very same bits for a fraction of the work
_UNIT = np.arange(256, dtype=np.float32) / 255.0
#: the sRGB transfer curve undone (linear light) for every uint8 value, float32 as per pixel:
#: the power ``** 2.4`` cost a third of the CIELAB conversion when it ran on every pixel
LINEAR = np.where(_UNIT <= 0.04045, _UNIT / 12.92, ((_UNIT + 0.055) / 1.055) ** 2.4)
#: the float32 factor ``np.degrees`` multiplies by (float32 180 / float32 π, one ulp off
#: float32(180 / π)), read from numpy itself: multiplying by it is ``np.degrees``, bit for bit
_DEGREES = np.degrees(np.float32(1.0))


def _lab_f(t: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)


def lab_planes(
    pixels: NDArray[np.uint8],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """L*, a* and b* of RGB uint8 pixels as three separate arrays of shape ``pixels.shape[:-1]``.

    Separate (planar) arrays because every feature reads one channel at a time, and numpy is
    several times faster on a contiguous plane than on a channel strided through ``(..., 3)``
    (dividing by the white point across a last axis of 3 alone cost as much as the matrix
    product). The values are those of the per-pixel formula, bit for bit.
    """
    xyz = (np.take(LINEAR, pixels) @ _RGB_TO_XYZ.T).reshape(-1, 3)
    fx, fy, fz = (_lab_f(xyz[:, i] / _WHITE[i]) for i in range(3))
    shape = pixels.shape[:-1]
    return (
        (116 * fy - 16).reshape(shape),
        (500 * (fx - fy)).reshape(shape),
        (200 * (fy - fz)).reshape(shape),
    )


def srgb_to_lab(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """CIELAB (L*, a*, b*) of RGB uint8 pixels, D65; shape ``(..., 3)``."""
    return np.stack(lab_planes(pixels), axis=-1)


def share(mask: NDArray[np.bool_]) -> float:
    """The share of True in a non-empty mask: ``float(mask.mean())`` to the last bit (a count
    divided by the size, both exact) without summing a float64 copy of the mask."""
    return int(np.count_nonzero(mask)) / mask.size


#: relative margin around the squared threshold inside which :func:`edge_share` asks
#: ``hypot`` itself: far wider than float32 rounding of ``dx² + dy²`` (< 2⁻²²), far narrower
#: than the gradients of a photograph, so the band is almost always empty
_EDGE_MARGIN = 2.0**-16


def edge_share(plane: NDArray[np.float32], threshold: float) -> float:
    """Share of pixels whose gradient (forward differences) is steeper than ``threshold``.

    Exactly ``(np.hypot(|dx|, |dy|) > threshold).mean()`` in float32, which is what the
    features were defined and fitted with, without running the costly ``hypot`` on every
    pixel: ``dx² + dy²`` in float32 is within 2⁻²² of the true square, and a rounded ``hypot``
    within one float32 step of the true length, so a square clear of the threshold's square
    by ``_EDGE_MARGIN`` decides the comparison; only the rare squares inside that band go
    through ``hypot``."""
    dy = np.diff(plane, axis=0)[:, :-1]
    dx = np.diff(plane, axis=1)[:-1, :]
    if not dx.size:
        return 0.0
    limit = float(np.float32(threshold)) ** 2  # numpy compares float32 with float32(threshold)
    square = dx * dx
    square += dy * dy
    steep = square > limit * (1.0 + _EDGE_MARGIN)
    band = (square >= limit * (1.0 - _EDGE_MARGIN)) & ~steep
    inside = np.hypot(np.abs(dx[band]), np.abs(dy[band])) > threshold
    return (int(np.count_nonzero(steep)) + int(np.count_nonzero(inside))) / dx.size


def _in_ranges(
    hue: NDArray[np.float32], ranges: tuple[tuple[float, float], ...]
) -> NDArray[np.bool_]:
    (low, high), *rest = ranges
    mask = (hue >= low) & (hue < high)
    for low, high in rest:
        mask |= (hue >= low) & (hue < high)
    return mask


def hue_angle(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """CIELAB hue h° in [0, 360), as ``(degrees(arctan2(b, a)) + 360) % 360`` in float32.

    The sum lies in [180, 540] (up to rounding), where subtracting 360 from values ≥ 360 is
    exact (Sterbenz) just as ``fmod`` is, so both give the same bits; ``np.remainder`` took
    ten times as long as the subtraction.
    """
    turned = np.arctan2(b, a) * _DEGREES + 360.0
    angle: NDArray[np.float32] = np.where(turned >= 360.0, turned - 360.0, turned)
    return angle


def channel_values(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The channels of RGB uint8 pixels ``(..., 3)`` as float32 planes ``(3, ...)``, each
    contiguous: what both colour measurements start from, converted once."""
    return np.moveaxis(pixels, -1, 0).astype(np.float32, order="C")


def _colourfulness(values: NDArray[np.float32]) -> float:
    rg = values[0] - values[1]
    yb = 0.5 * (values[0] + values[1]) - values[2]
    spread = float(np.hypot(rg.std(), yb.std()))
    mean = float(np.hypot(rg.mean(), yb.mean()))
    return (spread + 0.3 * mean) / 100.0


def _hue_features(
    chroma: NDArray[np.float32], hue: NDArray[np.float32], blue: NDArray[np.bool_]
) -> dict[str, float]:
    chromatic = chroma > CHROMATIC
    vivid = chroma > VIVID
    weights = np.where(chromatic, chroma, 0.0)
    total = float(weights.sum())
    warm_hue = _in_ranges(hue, _WARM)
    # the warm and cool sums keep the zero weights of grey pixels: float32 sums group their
    # terms by position, so dropping zeros would move the last bit
    warm = float(weights[warm_hue].sum()) / total if total > 0 else 0.0
    cool = float(weights[_in_ranges(hue, _COOL)].sum()) / total if total > 0 else 0.0
    # the histogram sums float64 weights one by one, where a grey pixel's zero adds nothing
    bins = np.minimum((hue[chromatic] / (360.0 / HUE_BINS)).astype(np.int64), HUE_BINS - 1)
    histogram = np.bincount(bins, weights=chroma[chromatic], minlength=HUE_BINS)
    variety = 0.0
    if total > 0:
        p = histogram[histogram > 0] / total
        variety = float(-(p * np.log(p)).sum() / np.log(HUE_BINS))
    return {
        "warm_share": share(vivid & warm_hue),
        "green_share": share(vivid & _in_ranges(hue, _GREEN)),
        "blue_share": share(vivid & blue),
        "warmth": (warm - cool) * min(1.0, 3.0 * share(chromatic)),
        "hue_variety": variety,
    }


def _layout_features(
    lightness: NDArray[np.float32], chroma: NDArray[np.float32], blue: NDArray[np.bool_]
) -> dict[str, float]:
    height, width = lightness.shape
    third = max(1, height // 3)
    upper, lower = lightness[:third], lightness[height - third :]
    sky = (chroma[:third] > 10.0) & blue[:third] & (upper > 40.0)
    centre = np.zeros(lightness.shape, dtype=bool)
    core = (slice(height // 4, height - height // 4), slice(width // 4, width - width // 4))
    centre[core] = True
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
    # a contiguous copy of the centre sums in the same order as the masked selection did
    centre_lightness = np.ascontiguousarray(lightness[core])
    centre_chroma = np.ascontiguousarray(chroma[core])
    return {
        "upper_minus_lower": float(upper.mean() - lower.mean()) / 100.0,
        "sky_share": share(sky),
        "centre_minus_surround": float(centre_lightness.mean() - lightness[surround].mean())
        / 100.0,
        "centre_chroma": float(centre_chroma.mean() - chroma[surround].mean()) / 100.0,
        "block_lightness_spread": float(np.std(blocks)) / 100.0 if blocks else 0.0,
    }


def perceptual_features(
    pixels: NDArray[np.uint8], values: NDArray[np.float32] | None = None
) -> dict[str, float]:
    """Every feature of :data:`FEATURE_NAMES` for one RGB uint8 picture (pass a thumbnail:
    the features are means and shares, and 256 px keeps this at a few milliseconds).

    ``values`` is :func:`channel_values` of the same pixels when the caller has it already."""
    values = channel_values(pixels) if values is None else values
    lightness, a, b = lab_planes(pixels)
    chroma = np.hypot(a, b)
    hue = hue_angle(a, b)
    blue = _in_ranges(hue, _BLUE)
    out = {
        "lightness": float(lightness.mean()) / 100.0,
        "dark_share": share(lightness < 25.0),
        "bright_share": share(lightness > 75.0),
        "lightness_spread": float(lightness.std()) / 100.0,
        "chroma": float(chroma.mean()) / 100.0,
        "chroma_spread": float(chroma.std()) / 100.0,
        "colourfulness": _colourfulness(values),
        "edge_density": edge_share(lightness, 8.0),
        **_hue_features(chroma, hue, blue),
        **_layout_features(lightness, chroma, blue),
    }
    return {name: out[name] for name in FEATURE_NAMES}
