"""Secret redaction in logs: any configured secret that reaches a log line is blanked.

:func:`redact_secrets_in_logs` wraps the log handlers' formatters so any configured secret value
(admin token, LLM key, S3 keys, a database password) that reaches a log line — in a message, an
extra field or a traceback — is replaced by ``[redacted]``. Nothing is known to log them; this
is the belt to that pair of braces.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from tunelens.core.settings import Settings

REDACTED = "[redacted]"
#: shorter values are not redacted: replacing every "ab" in the logs would hide nothing
MIN_SECRET_LENGTH = 6


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret: SecretStr settings, the LLM key file, the database password."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    key_file = settings.llm_api_key_file
    if key_file is not None:
        # unreadable: the LLM client reports it (by path, never by content)
        with contextlib.suppress(OSError):
            values.append(key_file.read_text(encoding="utf-8").strip())
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparseable URL has no password to hide; the database says why
        password = None
    if password:
        values.append(str(password))
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then blanks every secret (raw and JSON-escaped) in the line."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        forms = set()
        for secret in secrets:
            forms.add(secret)
            forms.add(json.dumps(secret)[1:-1])
            forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        self.forms = sorted(forms, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for form in self.forms:
            if form in line:
                line = line.replace(form, REDACTED)
        return line


def redact_secrets_in_logs(settings: Settings, logger: logging.Logger | None = None) -> int:
    """Wrap the formatter of each of ``logger``'s (default: root's) handlers; returns how many
    secrets are being redacted."""
    secrets = secret_values(settings)
    target = logger or logging.getLogger()
    if not secrets:
        return 0
    for handler in target.handlers:
        inner = handler.formatter or logging.Formatter()
        if isinstance(inner, RedactingFormatter):
            inner = inner.inner
        handler.setFormatter(RedactingFormatter(inner, secrets))
    return len(secrets)
