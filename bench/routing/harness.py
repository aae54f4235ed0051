"""A throwaway database for the routing benchmarks: created, migrated, used, dropped.

On the PostgreSQL server that DATABASE_URL names (or an embedded one under var/bench), so
a benchmark never writes into a database anybody uses.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, sqlalchemy_url

BENCH_VAR = PROJECT_ROOT / "var" / "bench"


@contextmanager
def throwaway_app(label: str):
    """A Flask app on a fresh, migrated database named after `label`; the database is dropped after."""
    from app import embedded

    server = os.environ.get("DATABASE_URL") or embedded.start_postgres(BENCH_VAR)
    redis_url = os.environ.get("REDIS_URL") or embedded.start_redis(BENCH_VAR)
    admin_url = make_url(sqlalchemy_url(server))
    name = f"liandong_{label}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_URL", "VAR_DIR", "LOG_LEVEL")}
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            os.environ.update({
                "DATABASE_URL": admin_url.set(database=name).render_as_string(hide_password=False),
                "REDIS_URL": redis_url, "VAR_DIR": var_dir, "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            })
            from flask_migrate import upgrade

            from app import create_app

            app = create_app()
            with app.app_context():
                upgrade(directory=str(Path(PROJECT_ROOT) / "migrations"), revision="heads")
            try:
                yield app
            finally:
                with app.app_context():
                    from app.extensions import db

                    db.session.remove()
                    db.engine.dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_tenant(app, *, code: str = "620602", name: str = "凉州区", template: str | None = "liangzhou"):
    """A tenant through the real provisioning service; returns its id."""
    from app.tenants import service
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(is_platform=True):
        return service.create_tenant(code=code, name=name, template=template).id
