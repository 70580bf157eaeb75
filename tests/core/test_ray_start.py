"""Without the ``ray`` extra, an engine that needs Ray says what to install or do instead."""

from __future__ import annotations

import sys

import pytest

from tunelens.core.errors import InvalidRequest
from tunelens.core.ray_start import require_ray


@pytest.mark.parametrize("missing", ["ray", "ray.data"])
def test_a_missing_ray_names_the_extra_and_the_way_around(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    if missing == "ray.data":
        pytest.importorskip("ray")
    monkeypatch.setitem(sys.modules, missing, None)  # the import system then raises
    with pytest.raises(InvalidRequest) as caught:
        require_ray("build with --engine local")
    assert caught.value.code == "ray_missing"
    assert f"({missing} is not installed)" in caught.value.message
    assert caught.value.message.endswith("install tunelens[ray] or build with --engine local.")
