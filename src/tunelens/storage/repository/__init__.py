"""Small functions over the database: each write commits before it returns; reads are figures.

A function that returns has made its row durable (SQLite WAL with ``synchronous=FULL``, or a
PostgreSQL commit), so the API may answer 2xx as soon as it returns. User mistakes (unknown
kind, unknown prediction, an over-long comment) raise :class:`~tunelens.core.errors.TunelensError`
subclasses with stable codes, before anything is written.

One module per table or use: :mod:`.predictions`, :mod:`.feedback`, :mod:`.upload_rows`,
:mod:`.analytics`, and :mod:`.checks` for the values callers hand in. Callers import this
package (``from tunelens.storage import repository as repo``) and find every name here.
"""

from tunelens.storage.repository.analytics import (
    RateCount,
    StatsSummary,
    feedback_counts,
    latency_percentiles,
    stats_summary,
)
from tunelens.storage.repository.checks import (
    MAX_CLIENT_ID_CHARS,
    check_client_id,
    check_sha256,
)
from tunelens.storage.repository.feedback import (
    MAX_COMMENT_CHARS,
    OPINION_KINDS,
    Opinion,
    Votes,
    client_opinions,
    record_feedback,
    track_votes,
)
from tunelens.storage.repository.predictions import get_prediction, record_prediction
from tunelens.storage.repository.upload_rows import (
    UploadRecord,
    delete_upload_rows,
    get_upload,
    mark_upload_stored,
    record_upload,
    uploads_by_hash,
    uploads_created_before,
)

__all__ = [
    "MAX_CLIENT_ID_CHARS",
    "MAX_COMMENT_CHARS",
    "OPINION_KINDS",
    "Opinion",
    "RateCount",
    "StatsSummary",
    "UploadRecord",
    "Votes",
    "check_client_id",
    "check_sha256",
    "client_opinions",
    "delete_upload_rows",
    "feedback_counts",
    "get_prediction",
    "get_upload",
    "latency_percentiles",
    "mark_upload_stored",
    "record_feedback",
    "record_prediction",
    "record_upload",
    "stats_summary",
    "track_votes",
    "uploads_by_hash",
    "uploads_created_before",
]
