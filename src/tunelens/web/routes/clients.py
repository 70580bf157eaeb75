"""``POST /api/v1/clients``: a new anonymous client identity for an API client.

The page gets its identity in a cookie; a script or an app calls this once, keeps the token and
sends it as ``Authorization: Bearer <token>`` on later calls, so its feedback shapes its own
results and it can delete the photos it let tunelens keep. The token is signed by the server
(:mod:`tunelens.web.services.identity`): a made-up or altered one is refused, so nobody can act
as another client by guessing or copying an id.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tunelens.web.schemas.errors import error_responses
from tunelens.web.services.identity import signer_of

router = APIRouter(prefix="/api/v1", tags=["listener"])


class ClientOut(BaseModel):
    client_token: str = Field(
        description="send as `Authorization: Bearer <token>` (or in `X-Client-Id`); keep it "
        "private: whoever holds it acts as this client"
    )
    client_id: str = Field(
        description="the anonymous id your feedback and kept photos are stored under"
    )


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientOut,
    responses=error_responses(429),
    summary="Get an anonymous client identity",
)
async def new_client(request: Request) -> ClientOut:
    """A fresh random client id and the signed token that proves it. It holds no personal
    data and needs no account; a lost token is simply replaced by a new one (the old id's
    feedback then no longer applies to the new one)."""
    identity = signer_of(request).issue()
    return ClientOut(client_token=identity.token, client_id=identity.client_id)
