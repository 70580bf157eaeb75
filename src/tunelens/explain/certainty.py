"""How sure a reading is, so the words never claim more than the reader knows.

Why this lives in ``explain``: the reader already says how unsure it is — the fitted colour
reader spreads its emotion probabilities by how far people's ratings fall from its
predictions, so a reading near neutral comes out flat (no emotion above ~40 %), and a zero-shot
reader's probabilities are flat when no prompt fits. What the words must do is follow that:
say "reads as awe" only when one emotion clearly leads, "leans towards" when it leads a
little, and "hard to tell" when nothing stands out — never name a confident mood for a picture
the reader could not make out (a rocket at dusk, a kite in a deep-blue sky).

An emotion is also never named when it contradicts the reading's own place on the circumplex
(fear, which is unpleasant and tense, for a reading that is pleasant and calm): the place is
what the songs follow, and a stray probability is not worth a word.
"""

from __future__ import annotations

from typing import Literal

from tunelens.core import vocab
from tunelens.core.types import Reading

Certainty = Literal["clear", "leaning", "unclear"]

#: one emotion clearly leads at this probability …
CLEAR_P = 0.6
#: … leads a little at this one, when it is also this far ahead of the runner-up
LEANING_P, LEANING_MARGIN = 0.45, 0.15
#: valence and arousal both this close to 0 (people's neutral) read as neutral
NEUTRAL = 0.1
#: a runner-up emotion is named ("with some contentment") from this probability
SECOND_P = 0.2
#: an emotion contradicts a reading when their valence (or arousal) signs differ and the
#: reading is at least this far from neutral on that axis
CONTRADICTS = 0.15


def ranked_emotions(reading: Reading) -> list[tuple[str, float]]:
    """The reading's emotions, most probable first (ties by name, so the order is stable)."""
    return sorted(reading.emotions.items(), key=lambda kv: (-kv[1], kv[0]))


def contradicts(emotion: str, reading: Reading) -> bool:
    """Whether naming ``emotion`` would contradict the reading's valence or arousal."""
    try:
        term = vocab.emotions().get(emotion)
    except KeyError:
        return False
    for own, other in ((term.valence, reading.valence), (term.arousal, reading.arousal)):
        if own * other < 0 and abs(other) >= CONTRADICTS:
            return True
    return False


def certainty(reading: Reading) -> Certainty:
    """How sure the reading is of its mood: ``clear``, ``leaning`` or ``unclear``."""
    ranked = ranked_emotions(reading)
    if not ranked:
        return "unclear"
    top, p_top = ranked[0]
    p_second = ranked[1][1] if len(ranked) > 1 else 0.0
    neutral = abs(reading.valence) < NEUTRAL and abs(reading.arousal) < NEUTRAL
    if neutral or contradicts(top, reading):
        return "unclear"
    if p_top >= CLEAR_P:
        return "clear"
    if p_top >= LEANING_P and p_top - p_second >= LEANING_MARGIN:
        return "leaning"
    return "unclear"


def second_emotion(reading: Reading) -> str | None:
    """The runner-up worth naming beside a clear top emotion: probable enough, on the same
    side of pleasant as the top one, and not contradicting the reading (else None)."""
    ranked = ranked_emotions(reading)
    if len(ranked) < 2 or ranked[1][1] < SECOND_P:
        return None
    top, second = ranked[0][0], ranked[1][0]
    emotions = vocab.emotions()
    try:
        same_side = emotions.get(top).valence * emotions.get(second).valence >= 0
    except KeyError:
        same_side = True
    if not same_side or contradicts(second, reading):
        return None
    return second
