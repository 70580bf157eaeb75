"""The SQL side of the data loop: typed ORM models, and the engine/session factory.

Three facts are kept, each in its own table:

* ``predictions`` — one row per picture answered: when, for which (anonymous) client, the
  picture's sha256, the reading, the encoder and the latency; the recommended songs sit in
  ``prediction_tracks`` (one row per rank) so analytics can count them in SQL;
* ``feedback`` — like / dislike / not_interested / played on one song, optionally tied to the
  prediction it was shown in; the song's artist and genre are copied in so the feedback
  effects and the analytics need no catalogue;
* ``uploads`` — one row per picture offered for keeping: consent, where it is stored (or that
  it waits in the outbox), and the sha256 of the stored (metadata-stripped) bytes.

SQLite (the default, a file in the data dir) runs in WAL mode with ``synchronous=FULL``, and
every write transaction starts with ``BEGIN IMMEDIATE``, so a committed row survives the
process being killed and concurrent writers queue instead of failing. PostgreSQL is used when
the URL says so (``postgresql://`` means the psycopg 3 driver); the connection settings live
in :mod:`tunelens.storage.engine`. The schema itself is created and changed only by the
Alembic migrations in :mod:`tunelens.storage.migrate`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from tunelens.core.settings import Settings, get_settings
from tunelens.storage.engine import make_engine, normalise_url
from tunelens.storage.migrate import upgrade

FeedbackKind = Literal["like", "dislike", "not_interested", "played"]
FEEDBACK_KINDS: tuple[FeedbackKind, ...] = ("like", "dislike", "not_interested", "played")
UploadStatus = Literal["stored", "pending", "declined"]
UPLOAD_STATUSES: tuple[UploadStatus, ...] = ("stored", "pending", "declined")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A random, unguessable prediction id (32 hex digits)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and come back aware. Naive values handed in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
#: BIGINT on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}  # noqa: RUF012


class Prediction(Base):
    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    image_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    encoder: Mapped[str] = mapped_column(String(64))
    top_emotion: Mapped[str] = mapped_column(String(32))
    top_genre: Mapped[str | None] = mapped_column(String(32))
    valence: Mapped[float] = mapped_column(Float)
    arousal: Mapped[float] = mapped_column(Float)
    reading: Mapped[dict[str, Any]]
    latency_ms: Mapped[float | None] = mapped_column(Float)

    tracks: Mapped[list[PredictionTrack]] = relationship(
        back_populates="prediction",
        order_by="PredictionTrack.rank",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def track_ids(self) -> list[str]:
        return [t.track_id for t in self.tracks]


class PredictionTrack(Base):
    """One recommended song of one prediction, at its rank (1 = best)."""

    __tablename__ = "prediction_tracks"

    prediction_id: Mapped[str] = mapped_column(
        ForeignKey("predictions.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str | None] = mapped_column(String(512))
    artist: Mapped[str | None] = mapped_column(String(512))
    genre: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)

    prediction: Mapped[Prediction] = relationship(back_populates="tracks")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('like', 'dislike', 'not_interested', 'played')", name="kind_valid"
        ),
        Index("ix_feedback_client_track", "client_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    prediction_id: Mapped[str | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[str | None] = mapped_column(String(64))
    track_id: Mapped[str] = mapped_column(String(255), index=True)
    artist: Mapped[str | None] = mapped_column(String(512))
    genre: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


class Upload(Base):
    """A picture offered for keeping. ``sha256`` is the hash of the bytes as uploaded (the
    same hash predictions carry, and the one a privacy request names); ``stored_sha256`` is
    the hash of the metadata-stripped bytes actually kept."""

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("status IN ('stored', 'pending', 'declined')", name="status_valid"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(1024))
    stored_sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    prediction_id: Mapped[str | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL")
    )
    stored_at: Mapped[datetime | None]


class Database:
    """An engine plus two session factories: ``read()`` and ``write()``.

    ``write()`` sessions start with ``BEGIN IMMEDIATE`` on SQLite, taking the write lock up
    front so a read-then-write transaction can never fail half-way on a busy database.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(writer, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, migrate: bool = True) -> Database:
        """The configured database; with ``migrate`` (default) its schema is brought to head."""
        settings = settings or get_settings()
        if migrate:
            upgrade(settings.database_url)
        return cls(settings.database_url)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction is committed when the block ends without error."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
