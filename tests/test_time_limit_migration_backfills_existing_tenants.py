"""Migration 0003 gives tenants that existed before it the default policy, under row-level security."""
from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, sqlalchemy_url


@pytest.fixture
def database_at_0002(server_urls):
    """A database of its own, migrated to 0002; yields (alembic config, engine)."""
    admin_url = make_url(sqlalchemy_url(server_urls[0]))
    name = f"liandong_tl_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["skip_logging_config"] = True
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        command.upgrade(config, "0002")
        yield config, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_tenants_from_before_0003_get_every_cell_and_step(database_at_0002):
    config, engine = database_at_0002
    with engine.begin() as connection:
        for code, name in (("620602", "凉州区"), ("620621", "民勤县")):
            connection.execute(text("INSERT INTO tenants (code, name, province_code, time_zone, status, settings) "
                                    "VALUES (:code, :name, '620000', 'Asia/Shanghai', 'active', '{}')"),
                               {"code": code, "name": name})
    command.upgrade(config, "0003")
    with engine.connect() as connection:
        per_tenant = connection.execute(text(
            "SELECT t.code, (SELECT count(*) FROM time_limit_defaults d WHERE d.tenant_id = t.id), "
            "(SELECT count(*) FROM escalation_steps s WHERE s.tenant_id = t.id) FROM tenants t ORDER BY t.code")).all()
        standard_general = connection.execute(text(
            "SELECT ack_minutes, resolve_hours, resolve_working_days FROM time_limit_defaults "
            "WHERE duty_class = 'standard' AND severity = 'general'")).all()
        forced = connection.execute(text(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
            "WHERE relname IN ('time_limit_defaults', 'escalation_steps') ORDER BY relname")).all()
    assert per_tenant == [("620602", 9, 12), ("620621", 9, 12)]
    assert standard_general == [(20, None, 5)] * 2
    assert forced == [("escalation_steps", True), ("time_limit_defaults", True)]


def test_0003_goes_down_and_up_again(database_at_0002):
    config, engine = database_at_0002
    command.upgrade(config, "0003")
    command.downgrade(config, "0002")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT to_regclass('time_limit_defaults'), "
                                       "to_regclass('escalation_steps')")).one() == (None, None)
    command.upgrade(config, "0003")
