"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, current_app


def init_app(app: Flask) -> None:
    from planner.web import people, timefmt

    timefmt.register(app)
    people.register(app)

    from planner.plugins.manager import add_template_folders

    add_template_folders(app)  # third-party plugin packages' templates/ folders

    @app.context_processor
    def _globals():
        return {"plugins": current_app.extensions["planner"]}
