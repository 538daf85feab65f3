"""The one "now" of the app: the injected ``CLOCK`` setting when there is one, else the real time.

Tests and the demo drive time by setting ``CLOCK`` (a callable returning naive UTC) instead of
sleeping or freezing the interpreter, so whether an occurrence is still open to answers, a mail
link has expired or a reminder is due is decided against the same moment everywhere. Outside
an app context (scripts, pure date arithmetic) it is the real time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context


def naive_now(app: Flask | None = None) -> datetime:
    """Naive UTC now, the form the database columns hold; ``app``: when not the current one."""
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    injected = app.config.get("CLOCK") if app is not None else None
    if injected is not None:
        moment: datetime = injected()
        return moment.replace(tzinfo=None) if moment.tzinfo is None else (
            moment.astimezone(UTC).replace(tzinfo=None)
        )
    return datetime.now(UTC).replace(tzinfo=None)


def now() -> datetime:
    """Aware UTC now."""
    return naive_now().replace(tzinfo=UTC)
