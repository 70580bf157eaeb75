"""Alembic environment for tunelens's schema, driven by :mod:`tunelens.storage.migrate`.

The URL comes from ``config.attributes["url"]`` (never from an ini file, so passwords with
``%`` need no escaping) or an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text

from tunelens.storage.db import Base
from tunelens.storage.engine import make_engine, normalise_url

#: any constant: serialises concurrent ``upgrade`` calls against one PostgreSQL database
_PG_LOCK_KEY = 0x7475_6E65


def _configure(**kwargs: Any) -> None:
    context.configure(target_metadata=Base.metadata, compare_type=True, **kwargs)


def _run(connection: Any) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
        context.run_migrations()


def run_migrations() -> None:
    config = context.config
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("run migrations through tunelens.storage.migrate (no URL given)")
    if context.is_offline_mode():
        _configure(url=normalise_url(url), literal_binds=True, dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


run_migrations()
