"""One-click unsubscribe (RFC 8058) for every non-account mail.

The link names one (person, group, category) and is signed, so it needs no log-in: a mail
provider POSTs ``List-Unsubscribe=One-Click`` to it (no cookie, no CSRF token: the signature is
the authority), and a person clicking it in the footer gets a page with one button. Tokens last a
year, far longer than any mail is kept unread, yet not forever.
"""

from __future__ import annotations

from itsdangerous import BadSignature

from planner.mail.render import site_link
from planner.mail.signing import serializer
from planner.notify.preferences import CATEGORIES

SALT = "unsubscribe"
MAX_AGE = 366 * 24 * 3600


def token(*, user_id: int, group_id: int, category: str) -> str:
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    return str(serializer(SALT).dumps([user_id, group_id, category]))


def read(value: str) -> tuple[int, int, str] | None:
    """(user_id, group_id, category) of a valid, unexpired token; None otherwise."""
    try:
        user_id, group_id, category = serializer(SALT).loads(value, max_age=MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(user_id, int) and isinstance(group_id, int) and category in CATEGORIES):
        return None
    return user_id, group_id, category


def link(*, user_id: int, group_id: int, category: str) -> str:
    return site_link(
        "links.unsubscribe", token=token(user_id=user_id, group_id=group_id, category=category)
    )


def headers(*, user_id: int, group_id: int, category: str) -> dict[str, str]:
    """``List-Unsubscribe`` and ``List-Unsubscribe-Post`` for one (person, group, category).

    Every sender adds these to its draft's headers; the link is signed, needs no log-in, and
    takes effect at once.
    """
    url = link(user_id=user_id, group_id=group_id, category=category)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def preferences_link() -> str:
    """The footer's "change what you get" link (the account page's mail section)."""
    return site_link("account.mail")
