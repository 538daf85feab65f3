"""Mail about one occurrence threads together in every mail client.

Each reminder and notice of a date refers to one root ``Message-ID`` made from the occurrence's
key (``In-Reply-To`` and ``References``), so "Cancelled" lands under "Tomorrow: supper" rather
than beside it. The root is never sent itself; clients thread on the reference alone (Gmail
also wants the same subject stem, which every sender keeps: the routine's title).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from planner.scheduling.zones import format_key, parse_key


def root_id(routine_id: int, original_start: datetime) -> str:
    domain = current_app.config["FEED_UID_DOMAIN"]
    return f"<occurrence-{routine_id}-{format_key(original_start)}@{domain}>"


def headers(routine_id: int, original_start: datetime) -> dict[str, str]:
    root = root_id(routine_id, original_start)
    return {"In-Reply-To": root, "References": root}


def about(routine_id: int, original_start: datetime) -> str:
    """The outbox ``about`` value of a date: ``"routine_id:key"``."""
    return f"{routine_id}:{format_key(original_start)}"


def parse_about(value: str) -> tuple[int, datetime] | None:
    try:
        routine, key = value.split(":", 1)
        return int(routine), parse_key(key)
    except ValueError:
        return None
