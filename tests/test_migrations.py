"""Migrations and models agree, and the migrations go down and up again (design.md section 3).

On a database of its own, created empty here and dropped at the end: upgrade from
nothing to head, compare the result with the models (autogenerate must find nothing
to do), downgrade to base (nothing left but alembic_version), and upgrade again.
"""
from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, sqlalchemy_url

MIGRATIONS = PROJECT_ROOT / "migrations"


@pytest.fixture
def fresh_database(server_urls):
    """An empty database on the test server, dropped afterwards. Yields its URL."""
    admin_url = make_url(sqlalchemy_url(server_urls[0]))
    name = f"liandong_migr_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def alembic_config(fresh_database) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = fresh_database  # read by migrations/env.py
    config.attributes["skip_logging_config"] = True     # keep pytest's logging as it is
    return config


@pytest.fixture
def engine(fresh_database):
    engine = create_engine(sqlalchemy_url(fresh_database), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


def schema_diff(engine) -> list:
    import app.models  # noqa: F401  (registers every table on the metadata)
    from app.extensions import db

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def leftovers(engine) -> list[str]:
    """Everything in the public schema a downgrade should have removed."""
    with engine.connect() as connection:
        relations = connection.execute(text(
            "SELECT format('%s (%s)', relname, relkind) FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relname NOT LIKE 'alembic_version%' "
            "ORDER BY relname")).scalars().all()
        functions = connection.execute(text(
            "SELECT proname || '()' FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "ORDER BY proname")).scalars().all()
        types = connection.execute(text(
            "SELECT typname FROM pg_type t WHERE typnamespace = 'public'::regnamespace "
            "AND typtype IN ('e', 'd', 'c') AND NOT EXISTS "
            "(SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relname LIKE 'alembic_version%')"
        )).scalars().all()
    return [*relations, *functions, *types]


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_migrations_have_a_single_head(alembic_config):
    assert len(ScriptDirectory.from_config(alembic_config).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models_and_downgrade_removes_everything(alembic_config, engine):
    head = ScriptDirectory.from_config(alembic_config).get_current_head()

    command.upgrade(alembic_config, "head")
    assert current_revision(engine) == head
    assert schema_diff(engine) == [], "models and migrations disagree: write a migration"

    command.downgrade(alembic_config, "base")
    assert current_revision(engine) is None
    assert leftovers(engine) == []

    # And back up: a downgrade must not leave anything that breaks the next upgrade.
    command.upgrade(alembic_config, "head")
    assert current_revision(engine) == head
    assert schema_diff(engine) == []
