"""Upgrading an empty database yields exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from planner import create_app
from planner.cli import cli
from planner.db import Base, make_engine
from planner.migrate import upgrade


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_models(database_url):
    upgrade(database_url)
    differences = schema_differences(database_url)
    assert differences == [], (
        "the migrations differ from the models (regenerate the migration):\n"
        + "\n".join(map(str, differences))
    )


def test_upgrade_twice_is_a_no_op(database_url):
    upgrade(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1


def test_cli_db_upgrade(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "cli",
        }
    )
    result = app.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at revision head" in result.output
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    app.extensions["planner_db"].engine.dispose()
