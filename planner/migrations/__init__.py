"""Alembic environment; run through ``planner db upgrade`` (see :mod:`planner.migrate`)."""
