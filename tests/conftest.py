"""Fixtures come from the ``planner.testing`` pytest plugin (also offered to plugin authors)."""
