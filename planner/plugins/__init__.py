"""The plugin system: hook specifications, the manager that loads entry points, and the
``ActivityType`` base. Plugin authors import :mod:`planner.api`, never this package.

May import: config, scheduling. Nothing that touches the database at import time.
"""
