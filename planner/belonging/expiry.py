"""History expires: presence and good things older than ``PLANNER_HISTORY_MONTHS`` (default 12)
are deleted by a periodic job, so what the group remembers about a person is a year of shared
dates, never a record kept forever (Karrot expires such data for the same reason)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from planner.models import GoodThing, Presence

DAYS_PER_MONTH = 30.44


def cutoff(now: datetime, months: int) -> datetime:
    """The naive moment before which rows go (``now`` naive UTC)."""
    return now - timedelta(days=round(DAYS_PER_MONTH * months))


def expire(session: Session, now: datetime, months: int) -> int:
    """Delete the old rows (keyed by the date they are about); how many went. Caller commits.

    The occurrence key is local wall-clock time; a day of margin either way is far below the
    precision of "12 months", so no zone lookup is needed."""
    limit = cutoff(now, months)
    gone = 0
    for model in (Presence, GoodThing):
        result = session.execute(delete(model).where(model.original_start < limit))
        gone += int(getattr(result, "rowcount", 0) or 0)
    return gone
