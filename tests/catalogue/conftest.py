"""Fixtures shared by the catalogue tests."""

from __future__ import annotations

import pytest

from tests.catalogue.helpers import random_catalogue
from tunelens.catalogue.models import Catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """300 random tracks in three genres (one in seven without a tempo), built once per module."""
    return random_catalogue()
