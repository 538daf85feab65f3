"""Configuration: defaults, then ``instance/planner.cfg``, then ``PLANNER_*`` environment variables.

The secret key is never hard-coded: when none is configured, one is generated into the instance
folder on first start, so sessions survive restarts and every worker of one host agrees on it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite file ``planner.sqlite3`` in the instance folder
    # Seconds: a write waits this long for its lock (SQLite's, or the occurrence lock on
    # PostgreSQL), then answers 503 with Retry-After.
    "DATABASE_BUSY_TIMEOUT": 10,
    "DATABASE_CONNECT_TIMEOUT": 5,  # seconds to reach PostgreSQL before answering 503
    "DATABASE_STATEMENT_TIMEOUT": 30,  # seconds any one PostgreSQL statement may run
    "REDIS_URL": None,  # shared rate-limit counters and feed byte caches across workers
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set PLANNER_SESSION_COOKIE_SECURE=true behind https
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock: phones keep tabs open
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "DISABLED_PLUGINS": "",  # comma-separated entry-point names to skip
    "PLUGINS": None,  # comma-separated allow-list; None loads every installed plugin
    "FEED_REFRESH_MINUTES": 360,  # REFRESH-INTERVAL / X-PUBLISHED-TTL of feeds
    "FEED_PAST_DAYS": 60,  # feeds carry overrides and one-offs from this many days back
    "FEED_FUTURE_DAYS": 366,  # personal feeds list single occurrences this far ahead
    "FEED_UID_DOMAIN": "planner",  # right-hand side of UIDs; never derived from host or key
    "FEED_CACHE_MAX_BYTES": 64 * 1024 * 1024,  # in-process feed byte cache (without Redis)
    # Polls answer 304 from versions known in process or in Redis (planner/feeds/versions.py);
    # false: every poll reads the group's row (for writers that bypass the app, e.g. psql).
    "FEED_POLL_CACHE": True,
    "PAGE_CACHE_MAX_BYTES": 64 * 1024 * 1024,  # rendered pages per worker; 0 switches it off
    "RATELIMIT_ENABLED": True,
    # Log-in attempts per address: roomy, since a group on one café Wi-Fi shares an address.
    "AUTH_RATE_LIMIT": "100 per 10 minutes;300 per hour",
    # Wrong passwords per account, whatever the address: stops guessing one person's password.
    "LOGIN_ACCOUNT_RATE_LIMIT": "10 per minute;50 per hour",
    # Sign-ups per address: a group of 30 signing up together at its first meeting fits.
    "SIGNUP_RATE_LIMIT": "40 per 10 minutes;100 per day",
    # In-process counters on one box; create_app switches to Redis when REDIS_URL is set.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Redis down: count in memory (a logged warning) rather than refuse log-ins with a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Give up on Redis within a second, so a dead cache never holds a request.
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    "PREFERRED_URL_SCHEME": "http",
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    # Without it, behind a proxy every client shares the proxy's address for rate limits.
    "TRUSTED_PROXIES": 0,
    # Mail (docs/mail.md). Without SMTP_URL, mail is written as .eml files to instance/mail/.
    "SMTP_URL": None,  # smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465
    "SMTP_CA_FILE": None,  # extra CA bundle to trust for the SMTP server's certificate
    "MAIL_FROM": "planner <planner@localhost>",
    "SITE_URL": "http://127.0.0.1:5000",  # the address links in mail point to
    "SITE_NAME": "planner",
    "MAIL_RETRY_SECONDS": 60,  # first retry after this; doubles per attempt (capped at 6 h)
    "MAIL_MAX_ATTEMPTS": 8,  # then the row is marked failed
    "MAIL_LEASE_SECONDS": 300,  # a crashed worker's claimed rows are picked up after this
    "MAIL_BATCH_SIZE": 100,
    "MAIL_IN_PROCESS": False,  # `planner run` also runs the queue consumer in threads
    "RESET_RATE_LIMIT": "5 per hour",  # "Forgot your password?" requests per client address
    "INVITE_MAIL_RATE_LIMIT": "200 per day",  # invite mails per group
    # A changed date is told once it has been quiet this long: five quick edits, one notice.
    "NOTICE_QUIET_MINUTES": 5,
    "MESSAGE_RATE_LIMIT": "5 per hour;20 per day",  # organizers' messages per sender
    "HISTORY_MONTHS": 12,  # who came and good things older than this are deleted
    # The language for visitors whose browser asks for none planner speaks (docs/languages.md).
    "DEFAULT_LOCALE": "en_GB",
}

SECRET_FILE = "secret_key"


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in priority order; ``test_config`` wins over everything."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("planner.cfg", silent=True)
    app.config.from_prefixed_env(prefix="PLANNER")
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        path = Path(app.instance_path) / "planner.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{path}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """Read the instance's generated key, creating it (mode 0600) on first start."""
    path = instance / SECRET_FILE
    try:
        return _wait_for_key(path)
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    # O_EXCL: when several workers start at once, exactly one writes and the rest read its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _wait_for_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _wait_for_key(path: Path, attempts: int = 100) -> str:
    """Another worker created the file a moment ago and may not have written it yet: an empty
    key would silently break every session, so wait (briefly) for the real one."""
    for _ in range(attempts):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it and start again to generate a new key")


def split_names(value: str | list[str] | None) -> list[str]:
    """Comma-separated config value (or a list from JSON) to a clean list of names."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]
