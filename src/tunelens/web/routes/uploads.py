"""``DELETE /api/v1/uploads/{sha256}``: a visitor deletes the photo they let tunelens keep.

The consent text promises deletion whenever the visitor asks; the page shows the photo's full
sha256 with a delete button that calls this route. Only the listener the photo was kept for
may delete it: the request's signed listener identity (:mod:`tunelens.web.services.identity`:
the page's cookie, or an API client's token) must be the one recorded with the upload. Anyone else — and anyone asking about a photo that was
never kept — gets the same 404, so the route never tells whether someone else kept a picture.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tunelens.core.errors import NotFound, TunelensError
from tunelens.storage import repository as repo
from tunelens.storage.db import Database
from tunelens.storage.uploads import UploadService
from tunelens.web.deps import ServingDep
from tunelens.web.schemas.errors import error_responses
from tunelens.web.services.identity import require_client

router = APIRouter(prefix="/api/v1", tags=["feedback"])


class UploadsUnavailable(TunelensError):
    """Uploads are off or their store could not be opened (HTTP 503)."""

    default_code = "uploads_unavailable"
    default_status = 503


class UploadDeletedOut(BaseModel):
    sha256: str = Field(description="the photo's fingerprint, as given")
    deleted: bool = Field(description="true: the photo, its stripped copy and its rows are gone")


def _owned_by(db: Database, sha256: str, client: str) -> bool:
    return any(row.client_id == client for row in repo.uploads_by_hash(db, sha256))


def _delete_if_owned(db: Database, uploads: UploadService, sha256: str, client: str) -> bool:
    if not _owned_by(db, sha256, client):
        return False
    uploads.delete(sha256)
    return True


@router.delete(
    "/uploads/{sha256}",
    response_model=UploadDeletedOut,
    responses=error_responses(401, 404, 422, 503),
    summary="Delete a photo you let tunelens keep",
)
async def delete_upload(serving: ServingDep, sha256: str) -> UploadDeletedOut:
    """Delete the kept photo with this sha256 (as shown with the answer, 64 hex digits): the
    stored copy, any copy waiting in the outbox and its rows. Only the listener it was kept
    for may: another listener, or a photo that was never kept, is 404 `upload_not_found`.
    `client_required`, `invalid_client_token` (401), `invalid_sha256` (422),
    `database_unavailable` / `uploads_unavailable` (503)."""
    digest = repo.check_sha256(sha256)
    loop = serving.loop
    db = loop.require_db()
    uploads = loop.uploads
    if uploads is None:
        raise UploadsUnavailable("Uploads are not available on this server.")
    client = require_client(serving.request)  # 401 `client_required` without an identity
    deleted = await loop.run(_delete_if_owned, db, uploads, digest, client)
    if not deleted:
        raise NotFound(
            "No photo kept for you has that fingerprint.",
            code="upload_not_found",
            details={"sha256": digest},
        )
    return UploadDeletedOut(sha256=digest, deleted=True)
