"""Sweep cost: one sweep over 100,000 pending timers of which 1,000 are due (issue 6).

Measures, as the app role under RLS: the claim query (`FOR UPDATE SKIP LOCKED LIMIT n` on the partial
index); the sweep as the cron runs it (finds the past-due timers and hands them to `fire_overdue` jobs,
re-arms the next triggers); and the firing of the 1,000 due timers by those jobs' `fire_due`
(notifications, audit events, timeline steps, levels). A database of its own, created and dropped:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.reminders.sweep_cost \
        [--pending 100000] [--due 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()

    from app.settings import sqlalchemy_url

    server = make_url(sqlalchemy_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")))
    name = f"liandong_sweepbench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    os.environ.update({"DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
                       "LIANDONG_ENV": "bench", "VAR_DIR": tempfile.mkdtemp(prefix="liandong-bench-"),
                       "LOG_LEVEL": "WARNING"})
    from tests.reminders_support import private_redis

    try:
        with private_redis() as (redis_url, _redis):  # the issue's after-commit jobs land in a Redis of our own
            os.environ["REDIS_URL"] = redis_url
            result = _measure(args)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(result))
    return 0


def _measure(args) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.blueprints.instructions import service as instructions
    from app.blueprints.reminders import firing
    from app.blueprints.reminders.models import FiredBy
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.settings import PROJECT_ROOT
    from app.tenants.context import tenant_scope
    from tests.factories import Factory
    from tests.test_instruction_support import make_incident

    app = create_app()
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    factory = Factory(app)
    tenant = factory.tenant()
    unit_id = factory.unit_id(tenant, "建设")
    desk = factory.user(tenant, "dispatcher")
    factory.user(tenant, "unit_liaison", unit_id=unit_id)
    incident_ids = [make_incident(app, tenant) for _ in range(20)]
    with app.app_context(), tenant_scope([tenant.id]):
        actor = db.session.get(User, desk.id)
        ids = [instructions.issue(incident_id=i, actor=actor, instructions=[{"unit_id": unit_id}])[0].id
               for i in incident_ids]
        db.session.execute(text("UPDATE timers SET state = 'cancelled', cancelled_at = now()"))
        db.session.execute(text(
            "INSERT INTO timers (tenant_id, instruction_id, incident_id, unit_id, clock, step, offset_seconds, "
            "recipients, due_at, state, token, attempts, created_at, outcome) "
            "SELECT i.tenant_id, i.id, i.incident_id, i.unit_id, 'resolve', 'yellow', 0, ARRAY['liaison'], "
            "CASE WHEN g < :due THEN now() - interval '1 second' ELSE now() + interval '1 day' + g * interval '1 second' END, "
            "'pending', 1, 0, now(), '{}' FROM generate_series(0, :n - 1) AS g "
            "JOIN instructions i ON i.id = (:ids)[1 + g % cardinality(:ids)]"),
            {"due": args.due, "n": args.pending, "ids": ids})
        db.session.commit()
        # As the owner (the app role may not ANALYZE): what autovacuum would have done by now.
        owner = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")
        with owner.connect() as connection:
            connection.execute(text("ANALYZE timers"))
        owner.dispose()

        claim = ("SELECT id FROM timers WHERE tenant_id = :t AND state = 'pending' AND due_at <= now() "
                 "ORDER BY due_at LIMIT 200 FOR UPDATE SKIP LOCKED")
        plan = [row[0] for row in db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + claim), {"t": tenant.id})]
        db.session.rollback()
        claims = []
        for _ in range(5):
            started = time.perf_counter()
            db.session.execute(text(claim), {"t": tenant.id}).all()
            claims.append(time.perf_counter() - started)
            db.session.rollback()
    # The sweep itself, as the cron runs it: find the past-due timers, hand them to fire_overdue jobs,
    # re-arm the triggers of those due before the next sweep. Three runs; the jobs are not run here.
    from app.blueprints.reminders.jobs import sweep

    sweeps = []
    for _ in range(3):
        with app.app_context():
            started = time.perf_counter()
            swept = sweep()
            sweeps.append(time.perf_counter() - started)
    with app.app_context(), tenant_scope([tenant.id]):
        started = time.perf_counter()
        fired = firing.fire_due(tenant.id, fired_by=FiredBy.SWEEP, limit=app.extensions["liandong_settings"]
                                .reminder_batch_size)
        fire_seconds = time.perf_counter() - started
    return {"pending": args.pending, "due": args.due, "claim_200_ms_min": round(min(claims) * 1000, 2),
            "claim_200_ms_max": round(max(claims) * 1000, 2),
            "sweep_ms": [round(s * 1000, 1) for s in sweeps], "sweep_handed_over": swept["handed_over"],
            "fire_due_s": round(fire_seconds, 2),
            "fired": fired["fired"], "fired_per_s": round(fired["fired"] / fire_seconds, 1),
            "plan": plan}


if __name__ == "__main__":
    sys.exit(main())
