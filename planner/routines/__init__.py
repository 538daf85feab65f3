"""Routines as stored: loading them with their overrides, saving, ending, splitting and
deleting a series, and the per-occurrence changes (cancel, change, restore).

May import: joining, groups, accounts, plugins, scheduling and the shared base. Never
``planner.web`` or ``feeds`` (its independent sibling).
"""
