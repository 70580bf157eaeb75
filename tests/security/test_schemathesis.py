"""schemathesis against the app's own OpenAPI document.

For every operation in ``/openapi.json``, schemathesis generates requests from the schema (and
deliberately broken ones) and sends them through the ASGI app with its lifespan started. Every
answer must be a non-5xx; every error must have the one shape with a documented code. Bounded
(``max_examples`` per operation) and deterministic (``derandomize``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in tunelens[dev]")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from tests.security.conftest import assert_documented_error  # noqa: E402
from tests.web.conftest import load_colour_engine, offline_settings  # noqa: E402
from tunelens.core.settings import Settings  # noqa: E402
from tunelens.web.app import create_app  # noqa: E402
from tunelens.web.settings import WebSettings  # noqa: E402

EXAMPLES_PER_OPERATION = 25


def _app(catalog: Path, home: Path) -> Any:
    engine = load_colour_engine(catalog)
    settings_: Settings = offline_settings(
        home, catalog_dir=catalog, admin_token="schemathesis-admin-token"
    )
    return create_app(
        settings_, engine=engine, web_settings=WebSettings(_env_file=None, rate_limit_per_minute=0)
    )


@pytest.fixture(scope="module")
def app(spotify_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield _app(spotify_catalog, tmp_path_factory.mktemp("schemathesis-home"))


def _check(response: Any, case: Any) -> None:
    """No server error, and errors in the one documented shape."""
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert_documented_error(response)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_openapi_operations_never_5xx(app: Any, mode: GenerationMode) -> None:
    """Each operation gets its own bounded, derandomized hypothesis run; valid requests
    (positive mode) and schema-violating ones (negative mode) alike."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            _check(case.call(), case)
            key = f"{case.method} {case.path}"
            calls[key] = calls.get(key, 0) + 1

        try:
            run()
        except Unsatisfiable:
            # e.g. GET /health in negative mode: no parameter, so no way to break the schema
            assert mode is GenerationMode.NEGATIVE, operation.path
    print(f"schemathesis {mode.value}: {sum(calls.values())} calls over {len(calls)} operations")
    assert sum(calls.values()) >= len(operations)
