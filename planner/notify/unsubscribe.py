"""One-click unsubscribe (RFC 8058) for every non-account mail."""

from __future__ import annotations


def headers(*, user_id: int, group_id: int, category: str) -> dict[str, str]:
    """``List-Unsubscribe`` and ``List-Unsubscribe-Post`` for one (person, group, category).

    Every sender adds these to its draft's headers; the link is signed, needs no log-in, and
    takes effect at once.
    """
    return {}
