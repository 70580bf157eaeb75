"""Migrations: empty → head → base on SQLite and PostgreSQL, and the models match head."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.storage.conftest import free_port
from tunelens.storage.db import Base
from tunelens.storage.engine import make_engine
from tunelens.storage.errors import DatabaseUnavailable
from tunelens.storage.migrate import current, downgrade, head_revision, upgrade, upgrade_sql

TABLES = {"predictions", "prediction_tracks", "feedback", "uploads"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_empty_to_head_to_base_and_back(db_url: str) -> None:
    assert current(db_url) is None
    assert _tables(db_url) == set()

    upgrade(db_url)
    assert current(db_url) == head_revision()
    assert _tables(db_url) == TABLES
    upgrade(db_url)  # running it again is a no-op
    assert current(db_url) == head_revision()

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"

    downgrade(db_url, "base")
    assert current(db_url) is None
    assert _tables(db_url) == set()

    upgrade(db_url)
    assert _tables(db_url) == TABLES


def test_sqlite_file_is_created_in_wal_mode(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_offline_sql_for_review() -> None:
    sql = upgrade_sql("postgresql://user@db.invalid/tunelens")
    assert "CREATE TABLE predictions" in sql
    assert "JSONB" in sql
    assert "CREATE TABLE feedback" in sql


@pytest.mark.postgres
def test_unreachable_database_is_one_clear_error() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(DatabaseUnavailable) as caught:
        upgrade(url)
    assert caught.value.code == "database_unavailable"
    assert "127.0.0.1" in caught.value.message


def test_bad_url_is_a_config_error() -> None:
    from tunelens.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        upgrade("mysql://x@y/z")
    assert caught.value.code == "invalid_database_url"
