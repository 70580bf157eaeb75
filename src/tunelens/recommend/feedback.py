"""What feedback changes in the next results — pure rules over a few database queries.

For one listener (an anonymous ``client_id``), only their **latest** opinion per song counts
(``played`` is engagement, not an opinion, and changes nothing here):

* songs whose latest opinion is ``dislike`` or ``not_interested`` leave their results;
* an artist leaves their results once they dislike ``dislike_artist_threshold`` (default 2)
  different songs of that artist — and more of that artist's songs than they like;
* songs they ``like`` (most recent first) lift similar songs: the recommender adds a
  ``liked`` part, the closeness to the nearest liked song (see docs/mapping.md §5).

Across listeners, each song gets a prior in [-1, 1] from its votes (each voter's latest
opinion; ``not_interested`` is half a dislike), shrunk towards 0 while votes are few::

    prior = (likes − dislikes − ½·not_interested) / (likes + dislikes + ½·not_interested + m)

with ``m = 5`` pseudo-votes (or the strength ``tunelens train --from-feedback`` fitted on the
stored votes, see :func:`tunelens.training.linear.fit_prior_strength`). That is ``2·E[p] − 1`` for the like probability ``p`` under a
Beta(m/2, m/2) prior: one like gives +0.17, ten likes +0.67, a hundred +0.95.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tunelens.core.settings import Settings, get_settings
from tunelens.heads.prior import load_prior_strength
from tunelens.recommend.diversity import artist_key
from tunelens.recommend.preferences import Preferences
from tunelens.recommend.ranking import MAX_LIFT_TRACKS
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.storage.repository import Opinion, Votes

#: pseudo-votes pulling a song's prior towards 0 (the larger, the more votes it takes to move)
PRIOR_STRENGTH = 5.0
#: a "not interested" counts as this fraction of a dislike in the prior
NOT_INTERESTED_WEIGHT = 0.5


@dataclass(frozen=True)
class ClientEffects:
    """One listener's feedback, ready for the recommender."""

    client_id: str | None
    excluded_tracks: frozenset[str] = frozenset()
    excluded_artists: frozenset[str] = frozenset()
    liked_tracks: tuple[str, ...] = ()

    def preferences(
        self,
        *,
        exclude: Iterable[str] = (),
        track_prior: Mapping[str, float] | None = None,
    ) -> Preferences:
        """What this listener's feedback asks of the next ranking; ``exclude`` (e.g. ids
        already on the page) is merged with the disliked songs."""
        return Preferences(
            exclude=frozenset(exclude) | self.excluded_tracks,
            exclude_artists=self.excluded_artists,
            lift=self.liked_tracks,
            track_prior=track_prior,
        )


def effects_from_opinions(
    client_id: str | None,
    opinions: Sequence[Opinion],
    *,
    artist_threshold: int = 2,
    max_liked: int = MAX_LIFT_TRACKS,
) -> ClientEffects:
    """The rules above, on a listener's latest opinions (newest first)."""
    excluded = frozenset(o.track_id for o in opinions if o.kind in ("dislike", "not_interested"))
    liked = tuple(o.track_id for o in opinions if o.kind == "like")[:max_liked]
    dislikes: dict[str, int] = {}
    likes: dict[str, int] = {}
    names: dict[str, str] = {}
    for opinion in opinions:
        if not opinion.artist:
            continue
        key = artist_key(opinion.artist)
        if not key:
            continue
        names.setdefault(key, opinion.artist)
        if opinion.kind == "dislike":
            dislikes[key] = dislikes.get(key, 0) + 1
        elif opinion.kind == "like":
            likes[key] = likes.get(key, 0) + 1
    banned = frozenset(
        names[key] for key, n in dislikes.items() if n >= artist_threshold and n > likes.get(key, 0)
    )
    return ClientEffects(client_id, excluded, banned, liked)


def client_effects(
    db: Database, client_id: str | None, *, artist_threshold: int = 2
) -> ClientEffects:
    """What this listener's feedback changes (nothing for an anonymous request)."""
    if not client_id:
        return ClientEffects(None)
    opinions = repo.client_opinions(db, client_id)
    return effects_from_opinions(client_id, opinions, artist_threshold=artist_threshold)


def shrunk_prior(
    likes: float,
    dislikes: float,
    not_interested: float = 0.0,
    *,
    strength: float = PRIOR_STRENGTH,
    not_interested_weight: float = NOT_INTERESTED_WEIGHT,
) -> float:
    """A song's prior in [-1, 1] from its votes, shrunk towards 0 by ``strength`` pseudo-votes."""
    against = dislikes + not_interested_weight * not_interested
    total = likes + against + strength
    if total <= 0:
        return 0.0
    return max(-1.0, min(1.0, (likes - against) / total))


def priors_from_votes(
    votes: Mapping[str, Votes], *, strength: float = PRIOR_STRENGTH
) -> dict[str, float]:
    return {
        track: shrunk_prior(v.likes, v.dislikes, v.not_interested, strength=strength)
        for track, v in votes.items()
    }


def track_priors(
    db: Database, track_ids: Iterable[str] | None = None, *, strength: float = PRIOR_STRENGTH
) -> dict[str, float]:
    """Priors of every voted song (or of ``track_ids``); songs without votes are absent (= 0)."""
    return priors_from_votes(repo.track_votes(db, track_ids), strength=strength)


class FeedbackEffects:
    """The server's view of feedback: per-listener effects on demand, priors cached.

    Priors change slowly and cost one aggregate query over all feedback, so they are
    recomputed at most every ``prior_ttl_s`` seconds; a listener's own effects are read
    fresh on every request, so a dislike takes effect on the very next result.
    """

    def __init__(
        self,
        db: Database,
        *,
        artist_threshold: int = 2,
        prior_strength: float = PRIOR_STRENGTH,
        prior_ttl_s: float = 60.0,
    ) -> None:
        self.db = db
        self.artist_threshold = artist_threshold
        self.prior_strength = prior_strength
        self.prior_ttl_s = prior_ttl_s
        self._priors: dict[str, float] = {}
        self._priors_at = -float("inf")
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, db: Database, settings: Settings | None = None) -> FeedbackEffects:
        """Effects with the configured threshold and the newest prior strength fitted by
        ``tunelens train --from-feedback`` (the default ``PRIOR_STRENGTH`` until one is)."""
        settings = settings or get_settings()
        strength, _version = load_prior_strength(settings)
        return cls(
            db,
            artist_threshold=settings.dislike_artist_threshold,
            prior_strength=PRIOR_STRENGTH if strength is None else strength,
        )

    def for_client(self, client_id: str | None) -> ClientEffects:
        return client_effects(self.db, client_id, artist_threshold=self.artist_threshold)

    def priors(self) -> Mapping[str, float]:
        with self._lock:
            if time.monotonic() - self._priors_at >= self.prior_ttl_s:
                self._priors = track_priors(self.db, strength=self.prior_strength)
                self._priors_at = time.monotonic()
            return self._priors

    def invalidate(self) -> None:
        with self._lock:
            self._priors_at = -float("inf")

    def preferences(self, client_id: str | None, *, exclude: Iterable[str] = ()) -> Preferences:
        """Everything feedback adds to one ranking: the listener's exclusions and likes, and
        all listeners' priors."""
        return self.for_client(client_id).preferences(exclude=exclude, track_prior=self.priors())
