"""Joining in: answers, regulars, the derived waitlist, slots, comments and the locks that
keep capacity exact under concurrency.

May import: groups, accounts, plugins, scheduling and the shared base. Never ``planner.web``,
``routines`` or ``feeds``.
"""
