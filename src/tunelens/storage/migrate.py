"""Schema migrations (Alembic), runnable from Python and from ``tunelens db``.

The migration scripts live inside the package (``storage/migrations``), so an installed
tunelens can create or upgrade its database without a checkout or an ``alembic.ini``::

    upgrade("sqlite:////var/lib/tunelens/tunelens.db")      # empty → head, or old → head
    downgrade("postgresql://tunelens@db/tunelens", "base")  # drop every tunelens table
    current(url)                                            # the revision a database is at
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL

from tunelens.core.errors import InvalidRequest
from tunelens.storage.engine import make_engine, normalise_url
from tunelens.storage.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    """An in-memory Alembic config pointing at the packaged scripts and ``url``."""
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = normalise_url(url)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@contextmanager
def _known_revision(revision: str) -> Iterator[None]:
    """Alembic's refusal of a target (an unknown revision, a bad relative step) as a user
    error naming the revisions this tunelens has, not an internal error."""
    try:
        yield
    except CommandError as exc:
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        known = [rev.revision for rev in script.walk_revisions()]
        raise InvalidRequest(
            f"cannot migrate to revision {revision!r}: {exc}. This tunelens has revisions "
            f"{', '.join(reversed(known))} (newest: {head_revision()}); 'head' and 'base' "
            "work too.",
            code="unknown_revision",
            details={"revision": revision, "known": known},
        ) from None


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating it from empty if need be)."""
    with DatabaseUnavailable.wrap(url), _known_revision(revision):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``"base"`` drops every table)."""
    with DatabaseUnavailable.wrap(url), _known_revision(revision):
        command.downgrade(alembic_config(url), revision)


def current(url: str | URL) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""
    engine = make_engine(url)
    try:
        with DatabaseUnavailable.wrap(url), engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade_sql(url: str | URL, revision: str = "head") -> str:
    """The SQL ``upgrade`` would run, for a DBA to review (Alembic's offline mode)."""
    config = alembic_config(url)
    buffer = io.StringIO()
    config.output_buffer = buffer
    with _known_revision(revision):
        command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current",
    "downgrade",
    "head_revision",
    "upgrade",
    "upgrade_sql",
]
