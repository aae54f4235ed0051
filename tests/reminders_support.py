"""Shared set-up for the reminder and notification tests; this module holds no tests.

Real PostgreSQL, real Redis, real worker processes. Clocks run in minutes, so tests bring a
timer's due time forward in the database (and its deadline with it) instead of waiting.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from redis import Redis

from app.settings import PROJECT_ROOT
from tests.test_instruction_support import District, district, issue_one, make_incident  # noqa: F401

CLOCK_COLUMN = {"acknowledge": "acknowledge_by", "arrive": "arrive_by", "resolve": "resolve_by"}


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    """Poll `condition()` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(interval)  # polling a condition with a deadline, not a fixed sleep


def timers(sql, instruction_id: int) -> list:
    return sql("SELECT id, clock, step, state, due_at, token, fired_at, fired_by, recipients, cancel_reason, outcome "
               "FROM timers WHERE instruction_id = :i ORDER BY due_at, id", i=instruction_id)


def make_due(sql, instruction_id: int, clock: str, step: str, *, in_seconds: float = -1.0) -> int:
    """Bring one pending step forward: due `in_seconds` from now (negative: already due), the clock's
    deadline moved with it by the step's offset. Returns the timer id."""
    row = sql("SELECT id, offset_seconds FROM timers WHERE instruction_id = :i AND clock = :c AND step = :s "
              "AND state = 'pending'", i=instruction_id, c=clock, s=step)
    assert row, f"no pending {clock}/{step} timer"
    timer_id, offset = row[0]
    sql(f"UPDATE instructions SET {CLOCK_COLUMN[clock]} = now() + make_interval(secs => :d) WHERE id = :i",
        d=in_seconds - offset, i=instruction_id)
    sql("UPDATE timers SET due_at = now() + make_interval(secs => :d) WHERE id = :t", d=in_seconds, t=timer_id)
    return timer_id


def sweep(app, tenant_id: int) -> dict:
    """One sweep of one tenant, in this process: the timers' sweep (firing here what the cron's sweep would
    hand to jobs), then the outbox's."""
    from app.blueprints.notifications.jobs import sweep_outbox_tenant
    from app.blueprints.reminders.jobs import sweep_tenant

    with app.app_context():
        return {**sweep_tenant(tenant_id, inline=True), **sweep_outbox_tenant(tenant_id)}


@contextlib.contextmanager
def tuned(app, **changes):
    """Run with some settings changed (the app's settings are read once; jobs read them from the app)."""
    original = app.extensions["liandong_settings"]
    app.extensions["liandong_settings"] = dataclasses.replace(original, **changes)
    try:
        yield app.extensions["liandong_settings"]
    finally:
        app.extensions["liandong_settings"] = original


@contextlib.contextmanager
def worker_process(test_env: dict, **env):
    """`python -m worker` as its own process (with its cron child), stopped with SIGTERM at the end."""
    process = subprocess.Popen([sys.executable, "-m", "worker"], cwd=PROJECT_ROOT,
                               env={**os.environ, **test_env, **{k: str(v) for k, v in env.items()}},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the cron child, if the worker died without stopping it


@contextlib.contextmanager
def private_redis():
    """A Redis server of this test's own (a unix socket in a temp dir): FLUSHALL here touches nobody else."""
    directory = Path(tempfile.mkdtemp(prefix="liandong-redis-"))
    socket = directory / "redis.sock"
    process = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(socket), "--save", "",
                                "--appendonly", "no", "--dir", str(directory)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"unix://{socket}"
        client = Redis.from_url(url)
        wait_for(lambda: socket.exists() and _pings(client), timeout=10, message="private redis")
        yield url, client
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - not up yet
        return False


@contextlib.contextmanager
def using_redis(app, client):
    """Point the app's enqueueing at another Redis (the private one) for the block."""
    original = app.extensions["liandong_redis"]
    app.extensions["liandong_redis"] = client
    try:
        yield client
    finally:
        app.extensions["liandong_redis"] = original


# ---------------------------------------------------------------- test receivers

def verify_signature(secret: str, headers, body: bytes, *, tolerance_seconds: int = 300) -> bool:
    """How a unit's system checks a Liandong webhook (docs/reminders.md), written from the docs."""
    timestamp = headers.get("X-Liandong-Timestamp", "")
    signature = headers.get("X-Liandong-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: more simultaneous connections than that lose their SYN
    # and retry a second later, which would make the sender's concurrency look slow, not the gateway.
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    """An HTTP endpoint standing in for an SMS gateway or a unit's webhook receiver.

    `status` is what it answers (503: down); `hold` (an Event) makes it wait before answering, to
    catch a worker in the middle of a delivery. Every request is recorded; `delivered` keeps one per
    idempotency key, as a receiver honouring the key would.
    """

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.status = 200
        self.hold: threading.Event | None = None
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Like a real gateway: keep-alive, and no Nagle delay on the small reply (with it, the reply's
            # last segment waits for the client's delayed ACK, ~40 ms a request).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                entry = {"at": datetime.now(UTC), "headers": dict(self.headers), "body": body,
                         "json": json.loads(body), "status": receiver.status,
                         "verified": (verify_signature(receiver.secret, self.headers, body)
                                      if receiver.secret else None)}
                with receiver.lock:
                    receiver.requests.append(entry)
                if receiver.hold is not None:
                    receiver.hold.wait(timeout=60)
                status = entry["status"]
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.delivered.setdefault(self.headers.get("Idempotency-Key"), entry)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


def put_endpoint(client, d: District, **body) -> dict:
    response = client.put(d.url("notifications", "endpoints"), json=body, headers=d.h(d.office))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def set_phone(sql, user_id: int, phone: str) -> None:
    sql("UPDATE users SET phone = :p WHERE id = :u", p=phone, u=user_id)


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def put_on_duty(app, tenant, user, hours: int = 4) -> None:
    """An extra shift for `user` covering now (值班), through the roster service."""
    from app.blueprints.rosters import service
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    now = datetime.now(UTC)
    with app.app_context(), tenant_scope([tenant.id]):
        service.create_override(tenant=db.session.get(Tenant, tenant.id), actor=None, unit_id=user.unit_id,
                                kind="extra", user_id=user.id, starts_at=now - timedelta(hours=1),
                                ends_at=now + timedelta(hours=hours))


def inbox_of(sql, user_id: int, kind_prefix: str = "reminder.") -> list:
    return sql("SELECT kind, title, body, data FROM notifications WHERE recipient_user_id = :u AND channel = 'inbox' "
               "AND kind LIKE :k ORDER BY id", u=user_id, k=kind_prefix + "%")


def wait_for_worker(redis_client, process, timeout: float = 60.0) -> None:
    """Until this worker process has registered with Redis (it is listening), or it died."""
    from rq import Worker

    def ready():
        assert process.poll() is None, process.stderr.read().decode()[-3000:] if process.stderr else "worker died"
        return any(worker.pid == process.pid for worker in Worker.all(connection=redis_client))
    wait_for(ready, timeout=timeout, interval=0.1, message="the worker to register")


def make_timers(app, sql, client, d: District, *, count: int, first_in: float, spread: float,
                instructions: int = 10, recipients: tuple[str, ...] = ("liaison",)) -> list[int]:
    """`count` pending yellow timers of the resolve clock on `instructions` real instructions, due evenly
    from `first_in` to `first_in + spread` seconds from now, and scheduled in RQ (the app's Redis) as the
    issue would. The instructions' own timers are cancelled so only these run. Returns the timer ids."""
    from app.blueprints.reminders.jobs import enqueue_timers

    ids = [issue_one(client, d, make_incident(app, d.tenant))["id"] for _ in range(instructions)]
    sql("UPDATE timers SET state = 'cancelled', cancelled_at = now(), cancel_reason = 'test' WHERE state = 'pending'")
    rows = sql("INSERT INTO timers (tenant_id, instruction_id, incident_id, unit_id, clock, step, offset_seconds, "
               "recipients, due_at, state, token, attempts, created_at, outcome) "
               "SELECT i.tenant_id, i.id, i.incident_id, i.unit_id, 'resolve', 'yellow', 0, :recipients, "
               "now() + make_interval(secs => :first + g * :step), 'pending', 1, 0, now(), '{}' "
               "FROM generate_series(0, :n - 1) AS g "
               "JOIN instructions i ON i.id = (:ids)[1 + g % cardinality(:ids)] RETURNING id, tenant_id, due_at",
               recipients=list(recipients), first=first_in, step=spread / max(count - 1, 1), n=count, ids=ids)
    with app.app_context():
        assert enqueue_timers([(r.tenant_id, r.id, 1, r.due_at) for r in rows]) == count
    return [r.id for r in rows]


# ---------------------------------------------------------------- a throwaway PostgreSQL

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def throwaway_postgres():
    """A PostgreSQL cluster of the test's own (initdb in a temp dir, a free port): safe to restart.
    Yields (url, restart)."""
    import socket as _socket

    directory = Path(tempfile.mkdtemp(prefix="liandong-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    with _socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = lambda *args: subprocess.run(_as_postgres([str(PG_BIN / args[0]), *args[1:]]), check=True,  # noqa: E731
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    run("pg_ctl", "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start")
    try:
        yield (f"postgresql://postgres@127.0.0.1:{port}/postgres",
               lambda: run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "restart"))
    finally:
        with contextlib.suppress(Exception):
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def seed_for_restart() -> None:
    """Run in a subprocess against the throwaway server (env DATABASE_URL / REDIS_URL): migrate, make a
    district with a liaison who has a phone, issue instructions, and schedule TIMERS yellow timers due
    from FIRST_IN over SPREAD seconds (env). Prints the timer count."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.blueprints.reminders.jobs import enqueue_timers
    from app.extensions import db
    from tests.factories import Factory

    app = create_app()
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    factory = Factory(app)
    tenant = factory.tenant()
    unit_id = factory.unit_id(tenant, "建设")
    desk = factory.user(tenant, "dispatcher")
    liaison = factory.user(tenant, "unit_liaison", unit_id=unit_id)
    from app.blueprints.instructions import service
    from app.blueprints.users.models import User
    from app.tenants.context import tenant_scope
    from tests.test_instruction_support import make_incident as _incident

    count, first_in, spread = (int(os.environ["TIMERS"]), float(os.environ["FIRST_IN"]),
                               float(os.environ["SPREAD"]))
    incident_ids = [_incident(app, tenant) for _ in range(5)]
    with app.app_context(), tenant_scope([tenant.id]):
        db.session.execute(text("UPDATE users SET phone = '13700000000' WHERE id = :u"), {"u": liaison.id})
        db.session.commit()
        actor = db.session.get(User, desk.id)
        ids = [service.issue(incident_id=i, actor=actor, instructions=[{"unit_id": unit_id}])[0].id
               for i in incident_ids]
    with app.app_context(), tenant_scope([tenant.id]):
        db.session.execute(text("UPDATE timers SET state = 'cancelled', cancelled_at = now()"))
        rows = db.session.execute(text(
            "INSERT INTO timers (tenant_id, instruction_id, incident_id, unit_id, clock, step, offset_seconds, "
            "recipients, due_at, state, token, attempts, created_at, outcome) "
            "SELECT i.tenant_id, i.id, i.incident_id, i.unit_id, 'resolve', 'yellow', 0, ARRAY['liaison'], "
            "now() + make_interval(secs => :first + g * :step), 'pending', 1, 0, now(), '{}' "
            "FROM generate_series(0, :n - 1) AS g JOIN instructions i ON i.id = (:ids)[1 + g % cardinality(:ids)] "
            "RETURNING tenant_id, id, due_at"),
            {"first": first_in, "step": spread / max(count - 1, 1), "n": count, "ids": ids}).all()
        db.session.commit()
        enqueue_timers([(r.tenant_id, r.id, 1, r.due_at) for r in rows])
    print(len(rows))


def make_failed_delivery(app, tenant) -> int:
    """An SMS gateway endpoint (its URL names the tenant) and one failed SMS delivery of the tenant (its
    data names the tenant): for the isolation matrix and the bad-input sweep. Returns the delivery's id."""
    from app.blueprints.notifications.models import Endpoint, Notification
    from app.common.models import utcnow
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        db.session.add(Endpoint(tenant_id=tenant.id, channel="sms", unit_id=None, is_enabled=True,
                                target=f"http://sms-gateway.test/{tenant.code}", secret="probe-secret-000000"))
        row = Notification(tenant_id=tenant.id, channel="sms", address="13800000000", kind="test.delivery",
                           title="探测短信", body="", data={"tenant_code": tenant.code},
                           dedupe_key=f"test.delivery:{tenant.code}", state="failed", attempts=6,
                           last_error="HTTP 503", created_at=utcnow())
        db.session.add(row)
        db.session.commit()
        return row.id
