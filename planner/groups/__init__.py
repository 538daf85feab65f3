"""Groups: who may see and organize a group, membership and its roles, invites.

May import: models, db, plugins. Never ``planner.web``, ``routines`` or ``joining``.
"""
