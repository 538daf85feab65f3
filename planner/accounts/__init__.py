"""Accounts: people, their passwords and sessions.

Owns password hashing and what signing up, changing a password and deleting an account mean.
May import: models, db, config. Never ``planner.web``.
"""
