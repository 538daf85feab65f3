"""Pure scheduling: expanding a series into occurrences, schedules in people's words and
RRULE validation. No Flask, no SQLAlchemy: everything here is a function of its arguments.

May import: the standard library, dateutil, Babel and :mod:`planner.locales` (its words are
the gettext domain ``schedules``, see :mod:`planner.scheduling.catalog`).
"""
