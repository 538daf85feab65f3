"""planner: recurring connection routines for groups, with iCal feeds and pluggy plugins.

Plugin authors import :data:`hookimpl` from here: ``from planner import hookimpl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.plugins.hookspecs import hookimpl

if TYPE_CHECKING:  # Flask is imported by create_app: `import planner` stays light (pytest11)
    from flask import Flask

__all__ = ["create_app", "hookimpl"]

HERE = Path(__file__).resolve().parent


def templates_folder() -> str:
    """The core templates: the installed ``planner_templates`` package (a checkout's
    ``templates/`` under an editable install, the wheel's copy otherwise)."""
    from importlib.resources import files

    return str(files("planner_templates"))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, database, extensions, plugins, blueprints."""
    import os

    from flask import Flask

    from planner import config, db
    from planner.notify import belonging_jobs
    from planner.notify import jobs as notify_jobs
    from planner.plugins import manager as plugins
    from planner.web import converters, errors, headers, i18n, poll_front, templating
    from planner.web import guard as request_guard
    from planner.web.extensions import csrf, limiter, login_manager
    from planner.web.views import BLUEPRINTS

    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("PLANNER_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance,
        instance_relative_config=True,
        template_folder=templates_folder(),
        static_folder=str(HERE / "web" / "static"),
    )
    config.load(app, test_config)
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    request_guard.init_app(app)
    headers.init_app(app)
    app.extensions["planner"] = loaded = plugins.load(app.config)
    converters.init_app(app)
    i18n.init_app(app)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for blueprints in loaded.hook.register_routes():
        for blueprint in blueprints or ():
            app.register_blueprint(blueprint)

    errors.init_app(app)
    templating.init_app(app)
    notify_jobs.init_app(app)
    belonging_jobs.init_app(app)
    poll_front.init_app(app)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    return app
