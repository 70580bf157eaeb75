"""Who is listening: a server-issued, signed, anonymous client identity.

A listener's feedback hides songs from their next results and their consented pictures can be
deleted on their word, so the id that names them must not be something anyone can type: an
id the client chose (the old ``X-Client-Id: anything``) let a stranger read another
visitor's dislikes (by watching songs disappear), post feedback as them and delete their
pictures. Every id is therefore made here, at random, and handed out signed:

* ``client_id`` — 32 hex digits, random; what predictions, feedback and uploads are stored with.
* ``token`` — ``tlc1.<client_id>.<signature>``, the signature an HMAC-SHA256 of the id under
  the server's secret. Only a token proves an id; the id alone proves nothing.

How a token travels: the page gets it in the ``tunelens_client`` cookie (HttpOnly, SameSite=Lax,
set by :func:`ensure_cookie`); API clients get one from ``POST /api/v1/clients`` and send it as
``Authorization: Bearer tlc1.…`` (or in ``X-Client-Id`` or a ``client_id`` field, where clients
used to put a raw id). A token sent explicitly that does not verify is refused (401
``invalid_client_token``: the client meant to be someone and is told why it is not); a stale
or forged cookie is only ignored, and the page replaces it. Without any token a request is
anonymous: DyLuMo's routes and the recommend routes work unchanged, nobody's feedback applies.

The secret is ``TUNELENS_CLIENT_SECRET`` (env, ``.env``, secrets directory or secrets manager);
unset, one is generated once and kept in ``<data_dir>/client_identity.key`` (mode 0600), which
every worker of one server reads, so all of them accept each other's tokens. Changing the secret
makes every token anonymous again (visitors get a fresh id on their next page load).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fastapi import Request, Response

from tunelens.core.errors import ConfigError, TunelensError
from tunelens.core.settings import Settings

log = logging.getLogger("tunelens.web")

__all__ = [
    "BEARER_PREFIX",
    "CLIENT_COOKIE",
    "CLIENT_COOKIE_MAX_AGE",
    "CLIENT_HEADER",
    "SECRET_FILE",
    "ClientIdentity",
    "ClientRequired",
    "ClientSigner",
    "InvalidClientToken",
    "client_from",
    "ensure_cookie",
    "require_client",
    "signer_of",
]

#: the cookie the page's identity lives in (HttpOnly: the page's script never reads it)
CLIENT_COOKIE = "tunelens_client"
#: where API clients used to put a raw id; a token is accepted there too
CLIENT_HEADER = "X-Client-Id"
#: a year: long enough that a listener's feedback keeps counting; it holds no personal data
CLIENT_COOKIE_MAX_AGE = 365 * 24 * 3600
#: the secret kept in the data directory when none is configured
SECRET_FILE = "client_identity.key"
#: every token starts so (a version, so a later format can be told apart)
BEARER_PREFIX = "tlc1."
MIN_SECRET_CHARS = 32

_CONTEXT = b"tunelens-client-id-v1:"
_TOKEN = re.compile(r"^tlc1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


class InvalidClientToken(TunelensError):
    """A client token was sent but does not verify (forged, altered, or from another secret)."""

    default_code = "invalid_client_token"
    default_status: ClassVar[int] = 401


class ClientRequired(TunelensError):
    """The route acts on one listener's own data and no valid client token came with it."""

    default_code = "client_required"
    default_status: ClassVar[int] = 401


@dataclass(frozen=True)
class ClientIdentity:
    """One listener: the id their data is stored under, and the token that proves it."""

    client_id: str
    token: str


class ClientSigner:
    """Issues and verifies client tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_CHARS // 2:
            raise ValueError("the client identity secret is too short")
        self._key = hashlib.sha256(b"tunelens-client-key:" + secret).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientSigner:
        """The configured secret, else the one kept in the data directory (made on first use).

        A configured secret shorter than 32 characters is a ConfigError naming the setting.
        When the data directory cannot hold the generated secret, a random one lives in this
        process only (logged as an error: with several workers their tokens then disagree)."""
        configured = settings.client_secret
        if configured is not None and configured.get_secret_value():
            value = configured.get_secret_value()
            if len(value) < MIN_SECRET_CHARS:
                raise ConfigError(
                    f"TUNELENS_CLIENT_SECRET must be at least {MIN_SECRET_CHARS} characters "
                    "(e.g. the output of `openssl rand -hex 32`).",
                    code="invalid_setting",
                    details={"settings": ["TUNELENS_CLIENT_SECRET"]},
                )
            return cls(value.encode())
        try:
            return cls(stored_secret(settings.data_dir / SECRET_FILE))
        except OSError as exc:
            log.error(
                "client identity secret cannot be kept in %s (%s): using one for this process "
                "only; set TUNELENS_CLIENT_SECRET so listeners keep their identity",
                settings.data_dir,
                exc.strerror or exc,
                extra={"code": "client_secret_unavailable"},
            )
            return cls(secrets.token_bytes(32))

    def sign(self, client_id: str) -> str:
        """The token for ``client_id`` (32 lower-case hex digits)."""
        mac = hmac.new(self._key, _CONTEXT + client_id.encode(), hashlib.sha256).digest()
        signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        return f"{BEARER_PREFIX}{client_id}.{signature}"

    def issue(self) -> ClientIdentity:
        """A new listener: a fresh random id and its token."""
        client_id = uuid.uuid4().hex
        return ClientIdentity(client_id, self.sign(client_id))

    def verify(self, token: str) -> str | None:
        """The client id a token proves, or None when it does not verify."""
        match = _TOKEN.match(token.strip())
        if match is None:
            return None
        expected = self.sign(match.group(1))
        if not hmac.compare_digest(expected.encode(), token.strip().encode()):
            return None
        return match.group(1)


def stored_secret(path: Path) -> bytes:
    """The secret in ``path``, made (32 random bytes, hex, mode 0600) if the file is missing.

    Several workers may start at once: each writes a private file and links it into place,
    and whoever loses the race reads the winner's, so all of them share one secret."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker was first: use theirs
        else:
            log.info("client identity secret generated in %s", path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"{path} holds no usable client identity secret (delete it to make a new one).",
            code="invalid_setting",
        )
    return value.encode()


# --------------------------------------------------------------------------- requests


def signer_of(request: Request) -> ClientSigner:
    """The app's signer (built once by ``create_app``)."""
    signer = getattr(request.app.state, "identity", None)
    if not isinstance(signer, ClientSigner):
        raise RuntimeError("the app has no client identity signer (create_app builds one)")
    return signer


def _explicit_token(request: Request, value: str | None) -> str | None:
    """A token the client chose to send: the body/form field, ``X-Client-Id``, or a client
    bearer token (an ``Authorization`` header carrying anything else is not ours: the admin
    token travels there too)."""
    for candidate in (value, request.headers.get(CLIENT_HEADER)):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith(BEARER_PREFIX):
        return credentials
    return None


def client_from(request: Request, value: str | None = None) -> str | None:
    """The verified client id of this request, or None (anonymous).

    An explicitly sent token that does not verify is refused (401 ``invalid_client_token``);
    the page's cookie is only believed when it verifies."""
    signer = signer_of(request)
    explicit = _explicit_token(request, value)
    if explicit is not None:
        client = signer.verify(explicit)
        if client is None:
            raise InvalidClientToken(
                "The client token is not one this server issued. Get one from "
                "`POST /api/v1/clients` and send it as `Authorization: Bearer <token>`, "
                "or send none to stay anonymous.",
            )
        return client
    cookie = request.cookies.get(CLIENT_COOKIE)
    return signer.verify(cookie) if cookie else None


def require_client(request: Request, value: str | None = None) -> str:
    """The verified client id, or 401 ``client_required`` (for routes acting on own data)."""
    client = client_from(request, value)
    if client is None:
        raise ClientRequired(
            "This needs your client identity: the page's cookie, or a token from "
            "`POST /api/v1/clients` sent as `Authorization: Bearer <token>`.",
        )
    return client


def ensure_cookie(request: Request, response: Response) -> str:
    """The page visitor's client id; a new visitor (or one whose cookie does not verify, e.g.
    after the secret changed) gets a fresh signed identity in the cookie."""
    signer = signer_of(request)
    current = request.cookies.get(CLIENT_COOKIE)
    client = signer.verify(current) if current else None
    if client is not None:
        return client
    identity = signer.issue()
    response.set_cookie(
        CLIENT_COOKIE,
        identity.token,
        max_age=CLIENT_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return identity.client_id
