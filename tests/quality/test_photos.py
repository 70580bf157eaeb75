"""The fixed keyword rule that groups the shared photos by their descriptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PHOTOS_DIR, require_shared
from tunelens.core.errors import InvalidRequest
from tunelens.quality.photos import (
    BRIGHT,
    GROUPS,
    SERENE,
    SOMBRE,
    calm_bright_or_warm,
    description_words,
    mood_group,
    read_shared_photos,
)


def test_words_are_lower_case_and_keep_inner_hyphens() -> None:
    assert description_words("Dark, dramatic, LOW-KEY.") == {"dark", "dramatic", "low-key"}
    assert "warm-lit" in description_words("Warm-lit interior")


@pytest.mark.parametrize(
    ("description", "group"),
    [
        ("Dense forest. Calm, slightly gloomy.", SOMBRE),  # sombre before serene
        ("Heavy grey storm clouds.", SOMBRE),
        ("Perfectly still lake. Serene.", SERENE),
        ("A quiet lane.", SERENE),
        ("Kite in a deep blue sky. Cheerful, free.", BRIGHT),
        ("Sunny city street with a bus.", BRIGHT),
        ("Rocket at dusk, bright pad lights.", None),  # bright lights at dusk are no bright photo
        ("Still life of fruit on a cloth.", None),  # "still" is not a serene word
        ("A brightness test chart.", None),  # whole words only
        ("Dark mountain silhouettes.", None),  # "dark" alone names a colour, not a mood
        ("", None),
    ],
)
def test_mood_group(description: str, group: str | None) -> None:
    assert mood_group(description) == group


def test_calm_bright_or_warm() -> None:
    assert calm_bright_or_warm("Cosy, autumnal.")
    assert calm_bright_or_warm("Warm-lit interior with a drum.")
    assert calm_bright_or_warm("Calm, gentle.")
    assert not calm_bright_or_warm("A red motorcycle in a garage.")
    assert not calm_bright_or_warm("Brooding, moody, warm light.")  # sombre is neither


def test_read_shared_photos(tmp_path: Path) -> None:
    (tmp_path / "photos.csv").write_text(
        'file,description,licence\nb.jpg,"Bright, breezy.",x\na.jpg,Serene.,y\n',
        encoding="utf-8",
    )
    photos = read_shared_photos(tmp_path)
    assert [(p.file, p.group) for p in photos] == [("a.jpg", SERENE), ("b.jpg", BRIGHT)]
    (tmp_path / "photos.csv").write_text("file,licence\na.jpg,x\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="description"):
        read_shared_photos(tmp_path)
    with pytest.raises(InvalidRequest, match="cannot read"):
        read_shared_photos(tmp_path / "missing")


def test_every_group_has_shared_photos() -> None:
    photos = read_shared_photos(require_shared(PHOTOS_DIR))
    assert len(photos) == 48
    for group in GROUPS:
        assert sum(1 for p in photos if p.group == group) >= 3, group
