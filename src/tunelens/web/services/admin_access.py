"""Who is an admin: a request carrying the admin token, or the session cookie derived from it.

The token is ``TUNELENS_ADMIN_TOKEN`` (a secret: env, ``.env`` or a secret file). A request is
an admin's when it carries ``Authorization: Bearer <token>``, or the ``tunelens_admin`` cookie
the login form sets (HttpOnly, SameSite=Strict; its value is an HMAC of the token, never the
token itself, so rotating the token logs every browser out). Comparisons use
:func:`hmac.compare_digest`. With no token configured the admin pages do not exist.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

from fastapi import Request

from tunelens.web.services.state import ServiceState

ADMIN_COOKIE = "tunelens_admin"
ADMIN_COOKIE_MAX_AGE = 12 * 3600
_SESSION_CONTEXT = b"tunelens-admin-session-v1"

DISABLED_MESSAGE = (
    "The admin pages are off: set TUNELENS_ADMIN_TOKEN (a long random secret) and restart "
    "tunelens to turn them on."
)


class Access(Enum):
    OFF = "off"  # no token configured
    MISSING = "missing"  # no credentials sent
    WRONG = "wrong"  # a bearer token that does not match
    OK = "ok"


def session_value(token: str) -> str:
    """The admin cookie's value for ``token`` (an HMAC, so the cookie never holds the token)."""
    return hmac.new(token.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def configured_token(state: ServiceState) -> str | None:
    secret = state.settings.admin_token
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def access(request: Request, state: ServiceState) -> Access:
    token = configured_token(state)
    if token is None:
        return Access.OFF
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        ok = hmac.compare_digest(credentials.strip().encode(), token.encode())
        return Access.OK if ok else Access.WRONG
    cookie = request.cookies.get(ADMIN_COOKIE)
    if cookie and hmac.compare_digest(cookie.encode(), session_value(token).encode()):
        return Access.OK
    return Access.MISSING


def token_matches(given: str, configured: str) -> bool:
    """Whether a login form's token is the configured one (in constant time)."""
    return hmac.compare_digest(given.encode(), configured.encode())
