"""One-click answers in mail that survive link scanners.

A mail's "Going" link carries a signed token for (member, occurrence, answer). Opening it shows
the date and one confirm button (a POST): mail scanners and previews fetch every GET link, so a
GET must never change an answer. The token is good until the occurrence ends (checked when it is
used, against the occurrence as it is then), so a link in an old mail cannot answer next
month's date, and a moved date is answered as it now stands.
"""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature

from planner.enums import Answer
from planner.mail.render import site_link
from planner.mail.signing import serializer
from planner.scheduling.zones import format_key, parse_key

SALT = "one-click-answer"
#: A sanity bound only: the real limit is the occurrence's end, checked on use.
MAX_AGE = 400 * 24 * 3600
ANSWERS = (Answer.GOING.value, Answer.MAYBE.value, Answer.DECLINED.value)


def token(*, user_id: int, routine_id: int, original_start: datetime, answer: str) -> str:
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r}")
    return str(
        serializer(SALT).dumps([user_id, routine_id, format_key(original_start), answer])
    )


def read(value: str) -> tuple[int, int, datetime, str] | None:
    """(user_id, routine_id, original_start, answer) of a well-signed token; None otherwise."""
    try:
        user_id, routine_id, key, answer = serializer(SALT).loads(value, max_age=MAX_AGE)
        original_start = parse_key(key)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(user_id, int) and isinstance(routine_id, int) and answer in ANSWERS):
        return None
    return user_id, routine_id, original_start, answer


def links(*, user_id: int, routine_id: int, original_start: datetime) -> dict[str, str]:
    """The three one-click links of a mail, by answer."""
    return {
        answer: site_link(
            "links.answer",
            token=token(user_id=user_id, routine_id=routine_id, original_start=original_start,
                        answer=answer),
        )
        for answer in ANSWERS
    }
