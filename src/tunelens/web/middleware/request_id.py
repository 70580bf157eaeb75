"""Request ids in every log line, and forwarded headers believed only from trusted proxies.

Behind nginx the app's peer is the proxy, so the client's address arrives in
``X-Forwarded-For``, the scheme in ``X-Forwarded-Proto`` and nginx's ``$request_id`` in
``X-Request-ID``. Anyone can send those headers, so :class:`ForwardedMiddleware` believes them
only when the peer is one of ``TUNELENS_TRUSTED_PROXIES`` (addresses or CIDR networks; default
loopback). From anyone else they are ignored: the client address stays the peer (so rate limits
cannot be dodged by inventing addresses) and a fresh request id is made (so nobody can make their
requests look like someone else's in the logs).

The request id is put in ``scope["state"]`` (read by the access log and the error handler),
echoed in the response's ``X-Request-ID``, and held in a context variable for the request's
duration; :class:`RequestIdFilter` copies it onto every log record, including those written
from the engine's worker threads (anyio copies the context into them).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunelens.core.errors import ConfigError

REQUEST_ID_HEADER = "X-Request-ID"
#: letters, digits, dot, dash, underscore; nginx's $request_id (32 hex digits) fits
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FORWARDED_SCHEMES = frozenset({"http", "https"})

request_id_var: ContextVar[str | None] = ContextVar("tunelens_request_id", default=None)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str | None:
    """The id of the request being handled in this context (None outside a request)."""
    return request_id_var.get()


@dataclass(frozen=True)
class TrustedProxies:
    """Which peers may speak for the client: a list of networks, or everyone (``*``)."""

    networks: tuple[IPNetwork, ...] = ()
    everyone: bool = False
    _text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """``"127.0.0.1, ::1, 10.0.0.0/8"``; an entry that is not an address or network is a
        ConfigError (uvicorn would silently treat it as a name that never matches)."""
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
        if "*" in entries:
            return cls(everyone=True, _text=text)
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigError(
                    f"TUNELENS_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(use e.g. 127.0.0.1, 10.0.0.0/8 or *).",
                    code="invalid_trusted_proxies",
                    details={"setting": "TUNELENS_TRUSTED_PROXIES", "entry": entry},
                ) from None
        return cls(networks=tuple(networks), _text=text)

    def __contains__(self, host: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(host, str) or not host:
            return False
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_from(self, forwarded_for: str) -> str | None:
        """The client in an ``X-Forwarded-For`` chain: the right-most address that is not a
        trusted proxy (each proxy appends its peer, so everything left of it is hearsay)."""
        hosts = [_host_only(part) for part in forwarded_for.split(",") if part.strip()]
        if not hosts:
            return None
        if self.everyone:
            return hosts[0]
        for host in reversed(hosts):
            if host not in self:
                return host
        return hosts[0]  # the whole chain is proxies: the left-most one is the client


def _host_only(value: str) -> str:
    """``"203.0.113.9"``, ``"203.0.113.9:5555"``, ``"[2001:db8::1]:443"`` → the address."""
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


class ForwardedMiddleware:
    """Applies forwarded headers from trusted peers, and assigns the request id (outermost)."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        headers = Headers(scope=scope)
        request_id = None
        if peer is not None and peer[0] in self.trusted:
            forwarded_for = ", ".join(headers.getlist("x-forwarded-for"))
            client = self.trusted.client_from(forwarded_for) if forwarded_for else None
            if client:
                scope["client"] = (client, 0)
            proto = headers.get("x-forwarded-proto", "").strip().lower()
            if proto in FORWARDED_SCHEMES and scope["type"] == "http":
                scope["scheme"] = proto
            given = headers.get(REQUEST_ID_HEADER)
            if given and VALID_REQUEST_ID.match(given):
                request_id = given
        request_id = request_id or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = request_id_var.get()
            if request_id is not None:
                record.request_id = request_id
        return True
