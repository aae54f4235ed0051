"""Reminder timeliness, measured the way issue 6 describes (docs/reminders.md, bench/reminders/RESULTS.md).

N yellow timers fall due evenly over a window; one `python -m worker` (RQ SimpleWorker with RQ's
scheduler and the cron sweep) fires them and sends one SMS each to a local HTTP gateway. Reported:
lateness of firing (fired_at - due_at) and of delivery (gateway received - due_at), p50/p99/max.
`--flush-at-half` runs FLUSHALL on Redis halfway through the window (every scheduled job still waiting
is lost) and reports the lateness of the timers that were due after the flush separately.

A database of its own on DATABASE_URL's server (created and dropped) and a Redis server of its own
(redis-server on a unix socket), so nothing shared is touched:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.reminders.run \
        --timers 500 --window 60 [--flush-at-half] [--sweep-seconds 10]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(_pct(values, 0.5), 3), "p99": round(_pct(values, 0.99), 3),
            "max": round(max(values), 3), "mean": round(statistics.fmean(values), 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=50)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds from scheduling to the first due time")
    parser.add_argument("--sweep-seconds", type=int, default=10)
    parser.add_argument("--flush-at-half", action="store_true")
    parser.add_argument("--max-wait", type=float, default=600.0,
                        help="seconds after the window to wait for every SMS; then report what was done")
    args = parser.parse_args()

    from app.settings import sqlalchemy_url
    from tests.reminders_support import Receiver, private_redis, wait_for, worker_process

    server = make_url(sqlalchemy_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")))
    name = f"liandong_bench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    var_dir = tempfile.mkdtemp(prefix="liandong-bench-")
    try:
        with private_redis() as (redis_url, redis), Receiver(secret="bench-gateway-secret-0001") as gateway:
            env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "LIANDONG_ENV": "bench", "VAR_DIR": var_dir,
                   "LOG_LEVEL": "WARNING", "LOG_JSON": "true", "SMS_DRIVER": "http"}
            os.environ.update(env)
            timer_ids, due = _seed(args, gateway.url)
            engine = create_engine(url)
            started = time.monotonic()
            with worker_process(env, REMINDER_SWEEP_SECONDS=args.sweep_seconds) as process:
                flushed_at = None
                if args.flush_at_half:
                    half = due[0] + (due[-1] - due[0]) / 2
                    wait_for(lambda: datetime.now(UTC) >= half, timeout=args.lead + args.window + 60, interval=0.01)
                    redis.flushall()
                    flushed_at = datetime.now(UTC)

                def done():
                    with engine.connect() as c:
                        return c.execute(text("SELECT count(*) FROM notifications WHERE channel = 'sms' "
                                              "AND kind = 'reminder.yellow' AND state = 'sent'")
                                         ).scalar_one() >= len(timer_ids)
                try:
                    wait_for(done, timeout=args.lead + args.window + args.max_wait, interval=0.5,
                             message="every SMS sent")
                except AssertionError:
                    pass  # reported: the counts below say how far it got
                assert process.poll() is None
            with engine.connect() as c:
                rows = c.execute(text("SELECT id, due_at, fired_at, fired_by FROM timers WHERE id = ANY(:ids)"),
                                 {"ids": timer_ids}).all()
                audit = c.execute(text("SELECT count(*) FROM audit_events WHERE action = 'reminder.yellow'")).scalar_one()
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    due_of = {row.id: row.due_at for row in rows}
    fired = [(row.fired_at - row.due_at).total_seconds() for row in rows if row.fired_at is not None]
    received = {}
    for entry in gateway.delivered.values():
        if ":timer:" not in entry["json"]["id"]:
            continue  # the set-up's own notices (new instructions), not reminders
        timer_id = int(entry["json"]["id"].split(":timer:")[1].split(":")[0])
        received[timer_id] = (entry["at"] - due_of[timer_id]).total_seconds()
    result = {"timers": args.timers, "window_s": args.window, "sweep_s": args.sweep_seconds,
              "fired_once": len(rows) == audit == args.timers and all(r.fired_at for r in rows),
              "fired_by": dict(sorted({k: sum(1 for r in rows if r.fired_by == k)
                                       for k in {r.fired_by for r in rows}}.items())),
              "fired_late_s": _summary(fired), "delivered_late_s": _summary(list(received.values())),
              "early": sum(1 for value in fired if value < 0),
              "wall_s": round(time.monotonic() - started, 1)}
    if args.flush_at_half:
        after = [(row.fired_at - row.due_at).total_seconds() for row in rows
                 if row.due_at >= flushed_at and row.fired_at is not None]
        lost = [(row.fired_at - flushed_at).total_seconds() for row in rows if row.due_at < flushed_at
                and row.fired_at is not None and row.fired_at > flushed_at]
        result["flushed_at"] = flushed_at.isoformat()
        result["due_after_flush_fired_late_s"] = _summary(after)
        result["due_before_flush_unfired_recovered_after_s"] = _summary(lost)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _seed(args, gateway_url: str):
    """Migrate, provision a district, point its SMS gateway at the receiver, and schedule the timers."""
    from flask_migrate import upgrade

    from app import create_app
    from app.blueprints.instructions import service as instructions
    from app.blueprints.notifications import service as notifications
    from app.blueprints.reminders.jobs import enqueue_timers
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
    liaison = factory.user(tenant, "unit_liaison", unit_id=unit_id)
    incident_ids = [make_incident(app, tenant) for _ in range(20)]
    with app.app_context(), tenant_scope([tenant.id]):
        db.session.execute(text("UPDATE users SET phone = '13700000000' WHERE id = :u"), {"u": liaison.id})
        db.session.commit()
        actor = db.session.get(User, desk.id)
        notifications.put_endpoint(tenant_id=tenant.id, actor=actor, channel="sms", unit_id=None,
                                   target=gateway_url, secret="bench-gateway-secret-0001")
        ids = [instructions.issue(incident_id=i, actor=actor, instructions=[{"unit_id": unit_id}])[0].id
               for i in incident_ids]
    with app.app_context(), tenant_scope([tenant.id]):
        db.session.execute(text("UPDATE timers SET state = 'cancelled', cancelled_at = now()"))
        rows = db.session.execute(text(
            "INSERT INTO timers (tenant_id, instruction_id, incident_id, unit_id, clock, step, offset_seconds, "
            "recipients, due_at, state, token, attempts, created_at, outcome) "
            "SELECT i.tenant_id, i.id, i.incident_id, i.unit_id, 'resolve', 'yellow', 0, ARRAY['liaison'], "
            "now() + make_interval(secs => :lead + g * :step), 'pending', 1, 0, now(), '{}' "
            "FROM generate_series(0, :n - 1) AS g JOIN instructions i ON i.id = (:ids)[1 + g % cardinality(:ids)] "
            "RETURNING tenant_id, id, due_at"),
            {"lead": args.lead, "step": args.window / max(args.timers - 1, 1), "n": args.timers, "ids": ids}).all()
        db.session.commit()
        assert enqueue_timers([(r.tenant_id, r.id, 1, r.due_at) for r in rows]) == len(rows)
    # As the owner (the app role may not ANALYZE): what autovacuum does within a minute of a bulk load.
    # Without statistics the planner may take any (tenant_id, ...) index for a lookup by key under RLS.
    owner = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text("ANALYZE"))
    owner.dispose()
    return [r.id for r in rows], sorted(r.due_at for r in rows)


if __name__ == "__main__":
    sys.exit(main())
