"""Who is listening: the anonymous listener id whose feedback shapes their results.

The page keeps it in a cookie (set by the page route, HttpOnly: the page never reads it); API
clients send the ``X-Client-Id`` header or a ``client_id`` field instead. It holds no personal
data: a random id and nothing else.
"""

from __future__ import annotations

from fastapi import Request

from tunelens.storage import repository as repo

#: the anonymous listener id the page keeps in a cookie (API clients send the header instead)
CLIENT_COOKIE = "tunelens_client"
CLIENT_HEADER = "X-Client-Id"
#: a year: long enough that a listener's feedback keeps counting, and it holds no personal data
CLIENT_COOKIE_MAX_AGE = 365 * 24 * 3600


def client_id_from(request: Request, value: str | None = None) -> str | None:
    """The listener's anonymous id: the body/form field, else ``X-Client-Id``, else the cookie.

    An id that is not 1–64 of ``A-Za-z0-9-_.:`` is refused (422 ``invalid_client_id``).
    """
    for candidate in (
        value,
        request.headers.get(CLIENT_HEADER),
        request.cookies.get(CLIENT_COOKIE),
    ):
        if candidate is not None and candidate.strip():
            return repo.check_client_id(candidate)
    return None
