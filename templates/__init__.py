"""The core's Jinja templates, one folder per blueprint. Installed as ``planner_templates``
(see ``package-dir`` in pyproject.toml) so a wheel serves pages; found with importlib.resources."""
