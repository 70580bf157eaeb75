"""People's ratings CSV: the one reader ``eval affect`` and ``train reader`` share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.core.errors import InvalidRequest
from tunelens.reading.ratings import ERROR_CODE, read_ratings, rescale

HEADER = "file,theme,category,valence_mean,arousal_mean\n"


def test_rescale_puts_neutral_at_zero() -> None:
    assert rescale(1.0) == -1.0 and rescale(4.0) == 0.0 and rescale(7.0) == 1.0


def test_ratings_are_read_on_the_readings_scale(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("\ufeff" + HEADER + "a.png,Beach,Scenery,5.5,2.5\n", encoding="utf-8")
    (photo,) = read_ratings(path)
    assert (photo.file, photo.theme, photo.category) == ("a.png", "Beach", "Scenery")
    assert (photo.valence, photo.arousal) == (0.5, -0.5)


def test_theme_is_optional_unless_themes_are_required(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("file,category,valence_mean,arousal_mean\na.png,,4,4\n", encoding="utf-8")
    (photo,) = read_ratings(path)
    assert (photo.theme, photo.category) == ("", "unknown")
    with pytest.raises(InvalidRequest, match="lacks the ratings columns theme"):
        read_ratings(path, min_themes=2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("file,theme\na.jpg,x\n", "lacks the ratings columns category, valence_mean"),
        (HEADER + "a.jpg,x,Object,high,3\nb.jpg,y,Object,4,3\n", "line 2: valence_mean"),
        (
            HEADER + "a.jpg,x,Object,4,3\nb.jpg,y,Object,9,3\n",
            "line 3: valence_mean 9.0 is outside",
        ),
        (HEADER + "a.jpg,x,Object,4,nan\n", "arousal_mean nan is outside"),
        (HEADER, "no rated photos"),
        (HEADER + "a.jpg,x,Object,5,3\nb.jpg,x,Object,4,3\n", "at least 2 themes"),
    ],
)
def test_bad_ratings_files_are_one_clear_error(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InvalidRequest, match=message) as error:
        read_ratings(path, min_themes=2)
    assert error.value.code == ERROR_CODE == "invalid_ratings"
    with pytest.raises(InvalidRequest, match="cannot read") as missing:
        read_ratings(tmp_path / "missing.csv")
    assert missing.value.code == ERROR_CODE
