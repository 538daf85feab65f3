"""Feed tokens: the secret path segment of personal and private-group feed URLs.

Calendar apps cannot log in, so the URL itself is the credential. A token is 192 random bits
(``secrets.token_urlsafe(24)``), stored on ``User.feed_token`` (unique; NULL means revoked),
and it is kept out of logs: :class:`RedactTokens` rewrites ``/feeds/t/<token>/`` in werkzeug's
and gunicorn's request lines and in Flask's own error messages.
"""

from __future__ import annotations

import logging
import re
import secrets

TOKEN_BYTES = 24  # 192 bits; the brief asks for at least 128
# What token_urlsafe produces; anything else is answered 404 without touching the database.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_IN_PATH = re.compile(r"(/feeds/t/)[^/\s?\"']+")
REDACTED = r"\1[redacted]"
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask.app")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def redact(text: str) -> str:
    return _IN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Replace the token segment of feed URLs in a log record, whatever its formatting style."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/feeds/t/" in record.msg:
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def install_redaction(app_logger: logging.Logger | None = None) -> None:
    """Attach the filter once to the request loggers (and the app's own logger)."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    if app_logger is not None:
        loggers.append(app_logger)
    for logger in loggers:
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
