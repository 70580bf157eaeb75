"""The shared photos (``photos.csv``) and the fixed rule that groups them by what people wrote
about them.

Each photo's ``description`` was written by a person looking at it. ``tunelens eval moods``
asks whether the songs suit the mood those words name, so it needs groups of photos by mood —
and the grouping must not bend to the results. It is therefore a keyword rule over the
description, written down here and in ``docs/quality.md``, and not tuned to any figure:

1. the description is lower-cased and split into words (letters, with inner hyphens kept:
   "low-key" is one word);
2. **dark and sombre** if any word is one of :data:`SOMBRE_WORDS`;
3. else **serene** if any word is one of :data:`SERENE_WORDS`;
4. else **bright and happy** if any word is one of :data:`BRIGHT_WORDS` and none is one of
   :data:`NIGHT_WORDS` (a "bright" lamp at dusk does not make a bright, happy photo);
5. else no group.

Sombre comes first because a "calm, slightly gloomy" forest is gloomy before it is calm (and
Calm songs count for both). "Still" is left out of the serene words because "still life"
describes a kind of picture, not a mood.

A second rule marks photos that are **calm, bright or warm** — in the serene or the bright
group, or in no group and described with one of :data:`WARM_WORDS` — for the misfit check:
none of them should read as fear or anger (a brooding photo may, however warm its light).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from tunelens.core.errors import InvalidRequest

SOMBRE = "dark and sombre"
SERENE = "serene"
BRIGHT = "bright and happy"
#: the groups in the order the rule tries them (and reports list them)
GROUPS: tuple[str, ...] = (SOMBRE, SERENE, BRIGHT)

SOMBRE_WORDS = frozenset(
    {"gloomy", "brooding", "moody", "melancholic", "melancholy", "sombre", "somber", "lonely",
     "storm", "stormy", "dramatic", "low-key", "bleak"}
)  # fmt: skip
SERENE_WORDS = frozenset({"calm", "serene", "peaceful", "quiet", "gentle", "tranquil"})
BRIGHT_WORDS = frozenset(
    {"bright", "sunny", "sunlit", "cheerful", "playful", "smiling", "vivid", "breezy", "happy",
     "joyful"}
)  # fmt: skip
NIGHT_WORDS = frozenset({"night", "dusk", "twilight"})
WARM_WORDS = frozenset({"warm", "warm-lit", "warm-toned", "cosy", "cozy", "golden"})

_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


@dataclass(frozen=True)
class SharedPhoto:
    """One shared photo: its file name and what a person wrote about it."""

    file: str
    description: str

    @property
    def group(self) -> str | None:
        return mood_group(self.description)

    @property
    def calm_bright_or_warm(self) -> bool:
        return calm_bright_or_warm(self.description)


def description_words(text: str) -> set[str]:
    """The words of a description, lower-cased (step 1 of the rule)."""
    return set(_WORD.findall(text.lower()))


def mood_group(description: str) -> str | None:
    """The mood group of a description by the fixed keyword rule (module docstring)."""
    words = description_words(description)
    if words & SOMBRE_WORDS:
        return SOMBRE
    if words & SERENE_WORDS:
        return SERENE
    if words & BRIGHT_WORDS and not words & NIGHT_WORDS:
        return BRIGHT
    return None


def calm_bright_or_warm(description: str) -> bool:
    """Whether a photo people describe so should never read as fear or anger."""
    group = mood_group(description)
    if group is not None:
        return group in (SERENE, BRIGHT)
    return bool(description_words(description) & WARM_WORDS)


def read_shared_photos(photos_dir: Path) -> list[SharedPhoto]:
    """The photos listed in ``photos_dir/photos.csv`` (columns ``file`` and ``description``),
    in file-name order."""
    listing = photos_dir / "photos.csv"
    try:
        with listing.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not {"file", "description"} <= set(reader.fieldnames or []):
                raise InvalidRequest(
                    f"{listing} needs the columns file and description", code="invalid_photos"
                )
            photos = [SharedPhoto(row["file"], row["description"] or "") for row in reader]
    except OSError as error:
        raise InvalidRequest(
            f"cannot read {listing}: {error.strerror}", code="invalid_photos"
        ) from None
    if not photos:
        raise InvalidRequest(f"{listing} lists no photos", code="invalid_photos")
    return sorted(photos, key=lambda photo: photo.file)
