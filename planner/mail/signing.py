"""Signed links in mail: one serializer for every purpose, each with its own salt.

A link in a mail is a bearer token, so it is signed (itsdangerous) and expires; the salt keeps a
reset token from ever passing as a confirmation link. The signer reads the app's clock, so tests
expire links by moving the injected ``CLOCK``, never by sleeping.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from planner.mail.delivery import clock


def serializer(salt: str) -> URLSafeTimedSerializer:
    """A URL-safe, timestamped serializer keyed by the app's secret and ``salt``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((clock(app) - datetime(1970, 1, 1)).total_seconds())

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=ClockSigner)
