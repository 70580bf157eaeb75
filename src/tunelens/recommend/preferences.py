"""What one listener's feedback asks of a ranking, as one typed value.

Front ends build it (the web from the listener's stored opinions and every listener's votes,
the CLI from ``--exclude``) and hand it to the pipeline unchanged, so the ranking sees exactly
the fields it understands and mypy checks every hop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Preferences:
    """Songs and artists to leave out, liked songs to lift, and all listeners' priors."""

    #: track ids to leave out (disliked songs, songs already on the page)
    exclude: frozenset[str] = frozenset()
    #: artists to leave out (compared folded: case, accents and punctuation ignored)
    exclude_artists: frozenset[str] = frozenset()
    #: liked track ids, most recent first: songs close to them get a ``liked`` part
    lift: tuple[str, ...] = ()
    #: track id → what all listeners said of it in [-1, 1]: adds a ``prior`` part when given
    track_prior: Mapping[str, float] | None = field(default=None, compare=False)

    def excluding(self, track_ids: Iterable[str]) -> Preferences:
        """The same preferences with more songs left out (e.g. the ones already shown)."""
        return replace(self, exclude=self.exclude | frozenset(track_ids))


#: no feedback at all: the ranking is the plain one
NO_PREFERENCES = Preferences()
