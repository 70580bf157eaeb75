"""The feature fit of a whole answer at once gives every song the numbers its own reasons
would have measured for it alone."""

from __future__ import annotations

import numpy as np

from tests.explain.test_reasons import MIDDLE, WEIGHTS, catalogue_quantiles
from tunelens.core.types import AudioTarget
from tunelens.explain.reason_words import WORDS
from tunelens.explain.reasons_fit import measure_fit, others_of, others_table

STEPS = {name: words.step for name, words in WORDS.items()}


def test_every_songs_others_are_measured_as_for_that_song_alone() -> None:
    rng = np.random.default_rng(3)
    for n, f, unknown in ((10, 8, 0.0), (2, 3, 0.0), (9, 5, 0.25), (1, 4, 0.0), (30, 10, 0.0)):
        gaps = rng.random((n, f)) * 0.6
        gaps[rng.random((n, f)) < unknown] = np.nan
        mean, least, present = others_table(gaps)
        for row in range(n):
            for col, pair in enumerate(others_of(gaps, row)):
                assert present[row, col] == (pair is not None)
                if pair is not None:  # the same numbers, to the last bit
                    assert (mean[row, col], least[row, col]) == pair


def test_the_song_at_the_target_fits_closest_and_an_unknown_value_does_not_count() -> None:
    target = AudioTarget(
        features={**MIDDLE, "energy": 0.15},
        weights={**WEIGHTS, "energy": 3.0, "liveness": 0.0},
    )
    songs = [{**MIDDLE, "energy": 0.15}, {**MIDDLE, "energy": 0.6}, dict(MIDDLE)]
    del songs[2]["energy"]
    fit = measure_fit(target, catalogue_quantiles(), songs, STEPS)
    assert "liveness" not in fit.features  # a feature the target does not weigh
    energy = fit.features.index("energy")
    assert fit.gaps[0, energy] == 0.0 and fit.closest[0, energy] and not fit.closest[1, energy]
    assert fit.score[0, energy] > 0 == fit.score[1, energy]  # 0.6 is too far to count
    assert fit.sided[0, energy] and not fit.high[energy]
    assert not fit.known[2, energy] and fit.known[2].sum() == len(fit.features) - 1
