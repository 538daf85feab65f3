"""Accounts: people, their passwords and sessions.

Owns password hashing and what signing up, changing a password and deleting an account mean.
May import: plugins, scheduling and the shared base (models, db, enums, config). Never
``planner.web`` or any room above it in the layers (groups, joining, routines, feeds).
"""
