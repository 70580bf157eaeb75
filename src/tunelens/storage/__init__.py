"""Where tunelens keeps what it learns: SQL for predictions and feedback, blobs for pictures.

* :mod:`tunelens.storage.db` — ORM models and sessions (SQLite default, PostgreSQL);
* :mod:`tunelens.storage.engine` — database URLs and engines (SQLite pragmas, pre-ping);
* :mod:`tunelens.storage.migrate` — Alembic migrations (``upgrade``, ``downgrade``, ``current``);
* :mod:`tunelens.storage.repository` — ``record_prediction``, ``record_feedback``,
  ``record_upload`` and the analytics queries;
* :mod:`tunelens.storage.blobs` — local and S3 blob stores and the outbox;
* :mod:`tunelens.storage.uploads` — consent → strip → store (or outbox) → row, and purges;
* :mod:`tunelens.storage.strip` — ``strip_metadata`` (EXIF/GPS/XMP/ICC removed).
"""
