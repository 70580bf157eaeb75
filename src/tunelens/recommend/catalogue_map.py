"""What the mapping needs to know about one catalogue: where its songs sit, and its genres.

A picture's mood is a point on Russell's circumplex; a catalogue is a cloud of songs. Fixed
formulas ("energy = 0.55 + 0.38 · arousal") tie the two only for the catalogue they were
written for, and never reach its ends: the calmest picture asked for energy 0.31 in a
catalogue whose calm songs sit at 0.1. So the mapping reads targets off the catalogue itself:

* **quantiles** — each mood feature's known values, sorted: a target is "the catalogue's
  value at this percentile", so the two ends of the circumplex reach the two ends of the
  catalogue, whatever its range;
* **valence given energy** — Spotify rates quiet songs lower in valence overall (in the
  mood-labelled set the calm songs' median valence is 0.12, the happy songs' 0.59), so the
  valence a pleasant *calm* picture asks for is a percentile among songs of the energy it asks
  for, not among all songs;
* **genres** (:class:`CatalogueGenres`) — which vibe genres the catalogue really has, each one's
  mean profile and its place on the circumplex measured from its songs, and where each vibe
  genre the catalogue lacks goes (its nearest present genre, or nowhere).

Everything here is computed once per catalogue (see :meth:`CatalogueMap.build`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tunelens.core import vocab

#: least number of catalogue songs of a genre for it to count as present in the catalogue
MIN_GENRE_TRACKS = 20
#: energy levels at which the valence-given-energy quantiles are tabulated
ENERGY_LEVELS = 41
#: width (in energy percentile) of the window of songs "of this energy"
ENERGY_WINDOW = 0.08
#: percentiles tabulated per energy level (0, 1, …, 100 %)
PERCENTILES = np.linspace(0.0, 1.0, 101)
#: width of the circumplex kernel that says how well a genre's place suits a picture's mood
GENRE_PLACE_WIDTH = 0.5

FloatVector = NDArray[np.float64]


def _mid_rank(sorted_values: FloatVector, value: float) -> float:
    """The share of values below ``value`` (ties count half), in [0, 1]."""
    low = int(np.searchsorted(sorted_values, value, side="left"))
    high = int(np.searchsorted(sorted_values, value, side="right"))
    return (low + high) / 2.0 / len(sorted_values)


@dataclass(frozen=True)
class CatalogueGenres:
    """The vibe genres of one catalogue: how many songs, mean profile and circumplex place of
    each present genre, and where every vibe genre of the vocabulary goes."""

    counts: dict[str, int]
    #: mean of each mood feature over the genre's songs (known values only)
    profiles: dict[str, dict[str, float]]
    #: (valence, arousal) in [-1, 1]: the catalogue percentile of the genre's median valence
    #: and median energy, stretched to the circumplex
    places: dict[str, tuple[float, float]]
    #: every vocabulary genre → the present genre it counts as, or None (dropped)
    fold: dict[str, str | None]

    @property
    def present(self) -> list[str]:
        return sorted(self.counts)

    def kept(self, genres: Mapping[str, float]) -> dict[str, float]:
        """The reading's genre probabilities moved onto present genres (absent genres add to
        the genre they fold into; dropped ones vanish). Not renormalised: the total is the
        share of the reading's vibe this catalogue can answer."""
        out: dict[str, float] = {}
        for name, p in genres.items():
            target = self.fold.get(name)
            if target is not None and p > 0:
                out[target] = out.get(target, 0.0) + float(p)
        return out

    def evidence(
        self, genres: Mapping[str, float], valence: float, arousal: float
    ) -> tuple[dict[str, float], float]:
        """(how strongly the picture points at each present genre, normalised to sum 1; the
        share of the reading's vibe kept) — each kept probability times how near the genre's
        measured circumplex place lies to the picture's mood."""
        kept = self.kept(genres)
        total_read = sum(max(0.0, float(p)) for p in genres.values())
        mass = sum(kept.values()) / total_read if total_read > 0 else 0.0
        weighted = {
            g: p
            * math.exp(
                -_place_distance2(self.places[g], valence, arousal) / (2 * GENRE_PLACE_WIDTH**2)
            )
            for g, p in kept.items()
        }
        total = sum(weighted.values())
        if total <= 0:
            return {}, 0.0
        return {g: w / total for g, w in weighted.items()}, min(1.0, mass)


def _place_distance2(place: tuple[float, float], valence: float, arousal: float) -> float:
    return (place[0] - valence) ** 2 + (place[1] - arousal) ** 2


@dataclass(frozen=True)
class CatalogueMap:
    """A catalogue's feature quantiles, valence-given-energy table and genres."""

    #: each feature's known values, sorted ascending (features with none are absent)
    sorted_values: dict[str, FloatVector]
    #: (ENERGY_LEVELS, len(PERCENTILES)): valence percentiles among songs of each energy level
    valence_table: NDArray[np.float64] | None
    genres: CatalogueGenres
    #: rank correlation of valence and energy over the songs (0 when unknown)
    coupling: float = 0.0

    @classmethod
    def build(
        cls,
        names: Sequence[str],
        matrix: NDArray[np.floating],
        vibes: Sequence[str],
        scales: Sequence[float],
    ) -> CatalogueMap:
        """From the (N, F) raw feature matrix in ``names`` order (NaN = unknown), each song's
        vibe genre ("" when none) and the index's per-feature scale (for genre distances)."""
        values = np.asarray(matrix, dtype=np.float64)
        sorted_values: dict[str, FloatVector] = {}
        for col, name in enumerate(names):
            known = values[:, col][np.isfinite(values[:, col])]
            if known.size:
                sorted_values[name] = np.sort(known)
        table, coupling = None, 0.0
        if "valence" in names and "energy" in names:
            energy = values[:, list(names).index("energy")]
            valence = values[:, list(names).index("valence")]
            table = _valence_table(energy, valence)
            coupling = rank_correlation(energy, valence)
        genres = _catalogue_genres(names, values, vibes, scales, sorted_values)
        return cls(sorted_values, table, genres, coupling)

    def knows(self, name: str) -> bool:
        return name in self.sorted_values

    def at(self, name: str, percentile: float) -> float:
        """The catalogue's value of ``name`` at ``percentile`` (linear between songs)."""
        values = self.sorted_values[name]
        position = min(1.0, max(0.0, percentile)) * (len(values) - 1)
        low = math.floor(position)
        high = min(low + 1, len(values) - 1)
        return float(values[low] + (position - low) * (values[high] - values[low]))

    def percentile(self, name: str, value: float) -> float:
        """Where ``value`` sits among the catalogue's songs, in [0, 1]."""
        return _mid_rank(self.sorted_values[name], value)

    def valence_at(self, valence_percentile: float, energy_percentile: float) -> float:
        """The valence at ``valence_percentile`` among songs whose energy sits near
        ``energy_percentile`` (bilinear in the table); the plain quantile without energy."""
        if self.valence_table is None:
            return self.at("valence", valence_percentile)
        levels = self.valence_table.shape[0]
        e = min(1.0, max(0.0, energy_percentile)) * (levels - 1)
        lo = math.floor(e)
        hi = min(lo + 1, levels - 1)
        frac = e - lo
        row = (1 - frac) * self.valence_table[lo] + frac * self.valence_table[hi]
        return float(np.interp(min(1.0, max(0.0, valence_percentile)), PERCENTILES, row))


def rank_correlation(a: FloatVector, b: FloatVector) -> float:
    """Spearman's ρ of two columns over the rows where both are known (0 with < 3 rows)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    ranks = [np.argsort(np.argsort(x[ok], kind="stable"), kind="stable") for x in (a, b)]
    r = np.corrcoef(ranks[0], ranks[1])[0, 1]
    return float(r) if np.isfinite(r) else 0.0


def _valence_table(energy: FloatVector, valence: FloatVector) -> NDArray[np.float64] | None:
    """Valence percentiles among the songs of each of ENERGY_LEVELS energy levels: songs whose
    energy percentile lies within ENERGY_WINDOW of the level (at least 30 songs, widened
    otherwise), so the table is smooth and defined at both ends."""
    ok = np.isfinite(energy) & np.isfinite(valence)
    if ok.sum() < 2:
        return None
    e, v = energy[ok], valence[ok]
    order = np.argsort(e, kind="stable")
    ranks = np.empty(len(e))
    ranks[order] = (np.arange(len(e)) + 0.5) / len(e)
    least = min(len(e), 30)
    rows = []
    for level in np.linspace(0.0, 1.0, ENERGY_LEVELS):
        gap = np.abs(ranks - level)
        window = gap <= ENERGY_WINDOW
        if window.sum() < least:
            window = gap <= np.partition(gap, least - 1)[least - 1]
        rows.append(np.quantile(v[window], PERCENTILES))
    return np.vstack(rows)


def _catalogue_genres(
    names: Sequence[str],
    values: NDArray[np.float64],
    vibes: Sequence[str],
    scales: Sequence[float],
    sorted_values: Mapping[str, FloatVector],
) -> CatalogueGenres:
    vibe_array = np.asarray(list(vibes), dtype=object)
    counts: dict[str, int] = {}
    profiles: dict[str, dict[str, float]] = {}
    places: dict[str, tuple[float, float]] = {}
    for genre in vocab.genres().names:
        rows = vibe_array == genre
        if int(rows.sum()) < MIN_GENRE_TRACKS:
            continue
        counts[genre] = int(rows.sum())
        block = values[rows]
        profiles[genre] = {
            name: float(np.nanmean(block[:, col]))
            for col, name in enumerate(names)
            if np.isfinite(block[:, col]).any()
        }
        places[genre] = _place(names, block, sorted_values)
    fold = _fold(names, scales, profiles)
    return CatalogueGenres(counts=counts, profiles=profiles, places=places, fold=fold)


def _place(
    names: Sequence[str], block: NDArray[np.float64], sorted_values: Mapping[str, FloatVector]
) -> tuple[float, float]:
    """A genre's circumplex place: the catalogue percentile of its median valence and median
    energy, from [0, 1] to [-1, 1] (0 when the catalogue lacks the feature)."""
    out = []
    for name in ("valence", "energy"):
        column = block[:, names.index(name)] if name in names else np.array([])
        known = column[np.isfinite(column)]
        if known.size == 0 or name not in sorted_values:
            out.append(0.0)
            continue
        out.append(2.0 * _mid_rank(sorted_values[name], float(np.median(known))) - 1.0)
    return out[0], out[1]


def _fold(
    names: Sequence[str], scales: Sequence[float], profiles: Mapping[str, Mapping[str, float]]
) -> dict[str, str | None]:
    """Every vocabulary genre → itself when present; else its nearest present genre by audio
    profile (RMS over features of the difference in units of the catalogue's spread) when
    that is no farther than the two most different present genres are from each other;
    else None. Absent genres are described by their documented prior (genres.json)."""
    present = sorted(profiles)
    scale = dict(zip(names, scales, strict=True))

    def distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
        shared = [n for n in names if n in a and n in b]
        if not shared:
            return math.inf
        return math.sqrt(
            sum(((a[n] - b[n]) / (scale[n] or 1.0)) ** 2 for n in shared) / len(shared)
        )

    radius = max(
        (distance(profiles[a], profiles[b]) for a in present for b in present if a < b),
        default=0.0,
    )
    out: dict[str, str | None] = {}
    for term in vocab.genres().terms:
        if term.name in profiles:
            out[term.name] = term.name
            continue
        nearest = min(present, key=lambda g: distance(term.prior, profiles[g]), default=None)
        if nearest is not None and distance(term.prior, profiles[nearest]) <= radius:
            out[term.name] = nearest
        else:
            out[term.name] = None
    return out
