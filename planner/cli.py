"""The ``planner`` console script: Flask's CLI plus ``db``, ``demo`` and ``plugins``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import create_app


@click.group(cls=FlaskGroup, create_app=create_app)
def cli() -> None:
    """Manage a planner instance."""


@cli.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the database schema."""
    from .migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at revision {revision}: {_safe_url()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from .migrate import revision

    revision(current_app.config["DATABASE_URL"], message)


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def _register_plugin_commands() -> None:
    """Let plugins add subcommands; needs the app, so it runs when the CLI starts."""
    app = create_app()
    app.extensions["planner"].hook.register_commands(cli=cli)


def main() -> None:
    _register_plugin_commands()
    cli()
