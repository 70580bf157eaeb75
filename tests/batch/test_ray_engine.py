"""The Ray engine without Ray: a clear ``ray_missing`` error, not an ImportError. (Running on
Ray Data is compared with the local engine in ``tests/integration/test_batch.py``.)"""

from __future__ import annotations

import sys

import pytest

from tunelens.batch.ray_engine import require_ray
from tunelens.core.errors import InvalidRequest


@pytest.mark.parametrize("missing", ["ray", "ray.data"])
def test_without_ray_the_engine_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # the import system then raises
    if missing == "ray.data":
        pytest.importorskip("ray")
    with pytest.raises(InvalidRequest) as caught:
        require_ray()
    assert caught.value.code == "ray_missing"
    assert "tunelens[ray]" in caught.value.message and "--engine local" in caught.value.message
