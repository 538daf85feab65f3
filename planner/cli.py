"""The ``planner`` console script: Flask's CLI plus ``db``, ``demo`` and ``plugins``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from planner import create_app


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
    from planner.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at revision {revision}: {_safe_url()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from planner.migrate import revision

    revision(current_app.config["DATABASE_URL"], message)


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


@cli.command("plugins")
@click.option("--all", "include_builtins", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@with_appcontext
def plugins_command(include_builtins: bool, as_json: bool) -> None:
    """List installed plugins: version, hooks implemented, activity types."""
    import json

    listing = current_app.extensions["planner"].listing(include_builtins=include_builtins)
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    if not listing:
        hint = "" if include_builtins else " (use --all to include the built-in ones)"
        click.echo(f"No plugins installed{hint}.")
        return
    for info in listing:
        version = info["version"] or "unversioned"
        builtin = " [built-in]" if info["builtin"] else ""
        click.echo(f"{info['name']} {version}{builtin}  ({info['module']})")
        click.echo(f"  hooks: {', '.join(info['hooks']) or '-'}")
        click.echo(f"  activity types: {', '.join(info['activity_types']) or '-'}")


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has any user.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load demo people and groups (logins: ada/ben/chloe/dev@example.org)."""
    from sqlalchemy import select

    from planner.db import get_session
    from planner.dev.demo import PASSWORD, PEOPLE, has_users, load_demo, login_email
    from planner.models import User

    session = get_session()
    if if_empty and has_users(session):
        click.echo("The database already has people in it: no demo data loaded.")
    else:
        demo = load_demo(session)
        click.echo(
            f"Loaded demo data: {len(demo.users)} people, {len(demo.groups)} groups, "
            f"{len(demo.routines)} routines."
        )
    click.echo("Open http://127.0.0.1:5000 and log in.")
    if session.scalar(select(User.id).where(User.email == login_email(PEOPLE[0][0]))):
        click.echo("Demo logins:")
        for key, name, _zone in PEOPLE:
            click.echo(f"  {login_email(key):<22} password {PASSWORD}  ({name})")


@cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the job queue's consumer: delivers the outbox, sweeps it every minute."""
    import logging

    from planner.mail.queue import consumer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    consumer(current_app._get_current_object(), workers=workers).run()  # type: ignore[attr-defined]


@cli.command("outbox")
@click.option("--limit", default=30, show_default=True)
@click.option("--deliver", is_flag=True, help="Deliver due rows now, in this process.")
@with_appcontext
def outbox_command(limit: int, deliver: bool) -> None:
    """Recent mail: state, attempts, the last SMTP error, the .eml file."""
    from planner.db import get_session
    from planner.mail.delivery import deliver_due, recent

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if deliver:
        report = deliver_due(app)
        click.echo(f"Delivered: {report.sent} sent, {report.retried} to retry, "
                   f"{report.failed} failed.")
    rows = recent(get_session(), limit)
    if not rows:
        click.echo("The outbox is empty.")
    for row in rows:
        when = (row.sent_at or row.due_at).strftime("%Y-%m-%d %H:%M")
        click.echo(f"#{row.id} {row.state:<6} {when} {row.kind:<12} {row.recipient}  "
                   f"attempts {row.attempts}  {row.subject}")
        if row.last_error:
            click.echo(f"    error: {row.last_error}")
        if row.path:
            click.echo(f"    file: {row.path}")


def _run_with_consumer() -> click.Command:
    """Flask's ``run``, starting huey's consumer in threads first when MAIL_IN_PROCESS is set,
    so ``make run`` delivers mail with nothing else running."""
    import functools
    import os

    from flask.cli import run_command

    original = run_command.callback
    assert original is not None

    @functools.wraps(original)
    def callback(**kwargs: object) -> object:
        info = click.get_current_context().ensure_object(ScriptInfo)
        app = info.load_app()
        reloader_parent = kwargs.get("reload") and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
        if app.config["MAIL_IN_PROCESS"] and not reloader_parent:
            import logging

            from planner.mail.queue import start_in_threads

            mail_log = logging.getLogger("planner.mail")
            if not mail_log.handlers:  # say where each .eml file goes, beside werkzeug's log
                handler = logging.StreamHandler()
                handler.setFormatter(logging.Formatter("mail: %(message)s"))
                mail_log.addHandler(handler)
                mail_log.setLevel(logging.INFO)
            start_in_threads(app)
            click.echo(f"Mail: consumer running in this process; files in {app.instance_path}/mail"
                       if not app.config.get("SMTP_URL") else "Mail: consumer running, via SMTP")
        return original(**kwargs)

    return click.Command(
        "run", callback=callback, params=run_command.params, help=run_command.help,
        short_help=run_command.short_help,
    )


cli.add_command(_run_with_consumer())


def main() -> None:
    """Build the app once: plugins add their subcommands to it, and every command then runs
    against that same app instead of Flask building a second one."""
    app = create_app()
    app.extensions["planner"].hook.register_commands(cli=cli)
    cli.main(obj=ScriptInfo(create_app=lambda: app))
