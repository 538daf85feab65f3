"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, current_app


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"plugins": current_app.extensions["planner"]}
