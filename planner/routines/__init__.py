"""Routines as stored: loading them with their overrides, saving, ending, splitting and
deleting a series, and the per-occurrence changes (cancel, change, restore).

May import: scheduling, joining, groups, plugins, models, db. Never ``planner.web``.
"""
