"""Notification latency (issue 6): from the commit of the transaction that issues an instruction to the
unit's inbox row, and to the SMS gateway receiving the SMS.

One `python -m worker` (its timer worker, delivery worker and cron), a local HTTP SMS gateway (the
test Receiver), a database and a Redis of the run's own. Instructions are issued through the service
(`instructions.service.issue`, what `POST /incidents/<id>/instructions` runs) at a fixed rate; each
notifies the unit's liaison: an in-app row written in the issuing transaction and an SMS sent after
commit. Reported, per instruction: inbox row created − commit, and gateway received − commit.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.reminders.notify_latency \
        --instructions 300 --rate 5
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.reminders.run import _summary


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instructions", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0, help="instructions issued per second")
    args = parser.parse_args()

    from app.settings import sqlalchemy_url
    from tests.reminders_support import Receiver, private_redis, wait_for, wait_for_worker, worker_process

    server = make_url(sqlalchemy_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")))
    name = f"liandong_bench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    var_dir = tempfile.mkdtemp(prefix="liandong-bench-")
    committed: dict[int, datetime] = {}
    try:
        with private_redis() as (redis_url, redis), Receiver(secret="bench-gateway-secret-0001") as gateway:
            env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "LIANDONG_ENV": "bench", "VAR_DIR": var_dir,
                   "LOG_LEVEL": "WARNING", "LOG_JSON": "true", "SMS_DRIVER": "http"}
            os.environ.update(env)
            app, tenant, actor_id, unit_id, incident_ids = _seed(args, gateway.url)
            with worker_process(env) as process:
                wait_for_worker(redis, process)
                time.sleep(5)  # the workers' start-up jobs (sweeps, model training) out of the way
                from app.blueprints.instructions import service as instructions
                from app.blueprints.users.models import User
                from app.extensions import db
                from app.tenants.context import tenant_scope

                start = time.monotonic()
                for n, incident_id in enumerate(incident_ids):
                    due = start + n / args.rate
                    if (pause := due - time.monotonic()) > 0:
                        time.sleep(pause)
                    with app.app_context(), tenant_scope([tenant.id]):
                        actor = db.session.get(User, actor_id)
                        issued = instructions.issue(incident_id=incident_id, actor=actor,
                                                    instructions=[{"unit_id": unit_id}])
                        committed[issued[0].id] = datetime.now(UTC)  # issue() returns after its commit
                wait_for(lambda: len(gateway.delivered) >= len(incident_ids), timeout=120, interval=0.1,
                         message="every SMS at the gateway")
                assert process.poll() is None
            engine = create_engine(url)
            with engine.connect() as c:
                inbox = {row.instruction_id: row.created_at for row in c.execute(text(
                    "SELECT (data->>'instruction_id')::bigint AS instruction_id, created_at FROM notifications "
                    "WHERE kind = 'instruction.issued' AND channel = 'inbox'"))}
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    to_gateway = {}
    for entry in gateway.delivered.values():
        instruction_id = int(entry["json"]["id"].split(":instruction:")[1].split(":")[0])
        to_gateway[instruction_id] = (entry["at"] - committed[instruction_id]).total_seconds()
    # The inbox row is written inside the issuing transaction: its created_at precedes the commit, so
    # "commit to inbox row" is zero by construction; the number shows how long before the commit it was.
    to_inbox = [(inbox[i] - committed[i]).total_seconds() for i in committed if i in inbox]
    print(json.dumps({"instructions": len(committed), "rate_per_s": args.rate,
                      "inbox_rows": len(to_inbox), "inbox_row_minus_commit_s": _summary(to_inbox),
                      "gateway_minus_commit_s": _summary(list(to_gateway.values())),
                      "sms_received": len(to_gateway)}, ensure_ascii=False))
    return 0


def _seed(args, gateway_url: str):
    from flask_migrate import upgrade

    from app import create_app
    from app.blueprints.notifications import service as notifications
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
    incident_ids = [make_incident(app, tenant) for _ in range(args.instructions)]
    with app.app_context(), tenant_scope([tenant.id]):
        db.session.execute(text("UPDATE users SET phone = '13700000000' WHERE id = :u"), {"u": liaison.id})
        db.session.commit()
        notifications.put_endpoint(tenant_id=tenant.id, actor=db.session.get(User, desk.id), channel="sms",
                                   unit_id=None, target=gateway_url, secret="bench-gateway-secret-0001")
    return app, tenant, desk.id, unit_id, incident_ids


if __name__ == "__main__":
    sys.exit(main())
