"""Groups: who may see and organize a group, membership and its roles, invites.

May import: accounts, plugins, scheduling and the shared base (models, db, enums, config).
Never ``planner.web``, ``routines``, ``feeds`` or ``joining``.
"""
