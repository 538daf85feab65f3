"""Reminders and notices: everything planner tells people outside its own pages.

The room sits between ``web`` and the domain rooms it reads (``routines``, ``joining``,
``groups``): a reminder is about an occurrence and its attendance, and every mail it writes goes
through the ``mail`` room's outbox, so it is sent at most once and survives a crash.

- ``preferences``: who wants which category of mail for which group (:func:`may_send`).
- ``unsubscribe``: RFC 8058 one-click ``List-Unsubscribe`` headers and their signed links.
- ``content``: what an activity type adds to a reminder or notice.
- reminders, the nudge for answers and the digest are scanned by a periodic job; notices are
  written when the change that causes them commits.
"""
