"""POST planner's RSVP and occurrence changes as JSON to one configured URL.

Configuration (planner config keys, or ``PLANNER_``-prefixed environment variables):

- ``WEBHOOK_URL``: where to POST (``http``/``https``). Unset: the plugin does nothing.
- ``WEBHOOK_SECRET``: optional; when set, each request carries ``X-Planner-Signature:
  sha256=<hex HMAC of the body>`` so the receiver can check it came from this planner.
- ``WEBHOOK_TIMEOUT`` (seconds, default 5) and ``WEBHOOK_RETRIES`` (extra attempts, default 2,
  with a short growing pause between them).

Why a daemon thread: the hooks run after the person's change is committed, inside their
request. A slow or dead receiver must not make them wait up to ``timeout * attempts`` seconds,
so the payload is built on the request thread (where the database session lives) and the
delivery runs in a background thread. The trade-off, documented: a delivery still in flight
when the process exits is lost (no queue, no persistence); a receiver that needs every event
should reconcile from planner's feeds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from flask import current_app

from planner.api import hookimpl

__version__ = "0.1.0"
log = logging.getLogger(__name__)
KEY_FORMAT = "%Y%m%dT%H%M"
_pending: list[threading.Thread] = []
_lock = threading.Lock()


def _occurrence(original_start: datetime) -> str:
    return original_start.strftime(KEY_FORMAT)


def _routine(routine: Any) -> dict[str, Any]:
    group = getattr(routine, "group", None)
    return {
        "id": routine.id,
        "title": routine.title,
        "activity": routine.activity_key,
        "group": getattr(group, "slug", None),
    }


def deliver(
    url: str, payload: dict[str, Any], timeout: float, retries: int, secret: str = ""
) -> bool:
    """POST ``payload`` as JSON; retry on network errors and 5xx. True when delivered."""
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": f"planner-webhook/{__version__}"}
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Planner-Signature"] = f"sha256={digest}"
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status < 300:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # the receiver refused this payload: retrying will not help
                log.warning("webhook %s refused %s: HTTP %s", url, payload["event"], exc.code)
                return False
            log.warning("webhook %s answered HTTP %s (attempt %d)", url, exc.code, attempt + 1)
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            log.warning("webhook %s failed: %s (attempt %d)", url, exc, attempt + 1)
        if attempt < retries:
            time.sleep(0.2 * 2**attempt)
    log.error("webhook %s: giving up on %s", url, payload["event"])
    return False


def send(payload: dict[str, Any]) -> threading.Thread | None:
    """Start delivering ``payload`` in a daemon thread (see the module docstring for why)."""
    config = current_app.config
    url = config.get("WEBHOOK_URL")
    if not url:
        return None
    thread = threading.Thread(
        target=deliver,
        args=(
            str(url),
            payload,
            float(config.get("WEBHOOK_TIMEOUT", 5)),
            int(config.get("WEBHOOK_RETRIES", 2)),
            str(config.get("WEBHOOK_SECRET") or ""),
        ),
        name="planner-webhook",
        daemon=True,
    )
    with _lock:
        _pending[:] = [t for t in _pending if t.is_alive()]
        _pending.append(thread)
    thread.start()
    return thread


def wait(timeout: float = 30) -> None:
    """Wait for deliveries in flight (tests, and a clean shutdown)."""
    with _lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(timeout)


@hookimpl
def rsvp_changed(routine, original_start, user, status, previous):
    send(
        {
            "event": "rsvp_changed",
            "routine": _routine(routine),
            "occurrence": _occurrence(original_start),
            "user": {"id": user.id, "name": user.display_name},
            "status": status,
            "previous": previous,
        }
    )


@hookimpl
def occurrence_changed(routine, original_start, change):
    send(
        {
            "event": "occurrence_changed",
            "routine": _routine(routine),
            "occurrence": _occurrence(original_start),
            "change": change,
        }
    )


@hookimpl
def notification_queued(draft, category, user_id, group_id):
    """A reminder, notice, digest or organizer's message was queued for one person.

    Posted as it is queued (inside the transaction that queues it: a rare rollback after that
    leaves an event for a mail that never goes, which a receiver reconciles with the outbox's
    ``dedupe_key``). The recipient's address is not sent: the receiver gets the account id.
    """
    send(
        {
            "event": "notification_queued",
            "kind": draft.kind,
            "category": category,
            "user": user_id,
            "group": group_id,
            "subject": draft.subject,
            "dedupe_key": draft.dedupe_key,
        }
    )
