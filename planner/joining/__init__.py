"""Joining in: answers, regulars, the derived waitlist, slots, comments and the locks that
keep capacity exact under concurrency.

May import: scheduling, groups, plugins, models, db. Never ``planner.web`` or ``routines``.
"""
