"""Built-in plugins, installed as the import package ``planner_plugins``."""
