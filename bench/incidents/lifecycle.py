"""`python -m bench.incidents.lifecycle --db NAME`: load test of the incident lifecycle against gunicorn.

On the database `setup.py` filled (a million past incidents), this starts gunicorn as the product
does (`python -m gunicorn --bind … --workers $WEB_CONCURRENCY (default 2) --access-logfile - …`,
LIANDONG_ENV=production, default log level) serving `bench.incidents.wsgi:app` (the product's app
plus one bare endpoint), logs in the desk and one liaison per bench unit, and runs these phases:

- ceiling: each of /healthz (no database), /bench/bare (one primary-key read and one insert) and
  GET /api/v1/t/<code> (the cheapest authenticated read) hammered alone by the closed-loop clients;
- reads: each read endpoint of the mix (and incident search) hammered alone the same way; with nothing
  written meanwhile, the board, inbox and my tasks are repeat reads that the read cache answers
  (app/common/read_cache.py; `--read-cache-seconds 0` serves without it, every read built);
- closed: CLIENTS clients, each looping over one lifecycle: intake (POST /incidents) → inbox →
  issue (POST /incidents/<id>/instructions) → desk read → acknowledge → inbox (active states) →
  arrive → desk read → resolve, the unit's steps by that unit's liaison; desk reads are the desk
  board (GET /board?overdue=true, GET /board?unit_id=…) when it exists, else GET /incidents?state=open;
- open: the same mix, in the same order, sent at a fixed RATE requests per second whatever the
  answers do, each latency measured from the moment the request was due (no coordinated omission);
  the writes take their incident or instruction from queues primed with a backlog, and a slot that
  finds its queue empty is counted (`no_work`), never silently replaced. The first WARMUP seconds go
  at the same rate uncounted; `slow_seconds` then lists the measured seconds that held a request over
  100 ms, and `checkpoints` what PostgreSQL's checkpointer did during the phase.

Every response's status is checked (201 for intake and issue, 200 for the rest); anything else is
an error, counted per operation and status/code, with the first bodies kept. Clients speak
HTTP/1.1 over a new connection per request (gunicorn's sync workers close it after each answer).
Also sampled: PostgreSQL wait events of the bench database's active backends, and CPU time of
gunicorn, the bench database's backends, this load generator, and the whole machine.
"""
from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import text

from bench.incidents import common

HOST = "127.0.0.1"
ACTIVE = ("issued", "acknowledged", "en_route", "on_scene")
SEARCHES = ["漏水", "电梯", "天然气", "停电", "老人", "噪音", "火车站街道", "祁连大道", "下水道", "冒充", "彩钢房", "暖气"]
DETAILS = ["请尽快派人处理", "现场有老人和小孩", "已经持续两个多小时了", "周围很多群众围观", "物业说管不了"]
EXPECTED = {"intake": 201, "issue": 201}


# ---------------------------------------------------------------- HTTP

@dataclass
class Answer:
    status: int
    body: object
    raw: bytes


def request(port: int, method: str, path: str, token: str | None = None, body: dict | None = None,
            timeout: float = 120) -> Answer:
    headers = {"Accept": "application/json", "Connection": "close"}
    payload = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return Answer(status, parsed, raw)


# ---------------------------------------------------------------- recording

@dataclass
class Record:
    op: str
    start: float       # when it was due (open loop) or sent (closed loop)
    latency: float     # seconds, from `start`
    status: int        # 0: no answer (connection error, timeout)
    ok: bool
    error: str = ""
    lag: float = 0.0   # open loop: how late the client sent it after it was due


class Recorder:
    def __init__(self):
        self.records: list[Record] = []
        self.samples: dict[str, list[str]] = collections.defaultdict(list)
        self.lock = threading.Lock()

    def add(self, record: Record, body: bytes | None = None) -> None:
        with self.lock:
            self.records.append(record)
            if not record.ok and len(self.samples[record.op]) < 3:
                self.samples[record.op].append(f"{record.status} {(body or b'')[:300].decode(errors='replace')}")


def timed(recorder: Recorder, op: str, port: int, method: str, path: str, *, token=None, body=None,
          due: float | None = None) -> Answer | None:
    """One request, recorded; returns the answer when it has the expected status, else None."""
    sent = time.perf_counter()
    start = due if due is not None else sent
    try:
        answer = request(port, method, path, token, body)
    except (OSError, http.client.HTTPException) as error:
        recorder.add(Record(op, start, time.perf_counter() - start, 0, False, type(error).__name__, sent - start),
                     str(error).encode())
        return None
    elapsed = time.perf_counter() - start
    ok = answer.status == EXPECTED.get(op, 200)
    code = "" if ok else (answer.body.get("error", "") if isinstance(answer.body, dict) else "")
    recorder.add(Record(op, start, elapsed, answer.status, ok, code, sent - start), None if ok else answer.raw)
    return answer if ok else None


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def summarize(records: list[Record], window: float) -> dict:
    by_op: dict[str, list[Record]] = collections.defaultdict(list)
    for record in records:
        by_op[record.op].append(record)
    out = {}
    for op, rows in by_op.items():
        latencies = sorted(r.latency * 1000 for r in rows)
        errors = collections.Counter(f"{r.status} {r.error}".strip() for r in rows if not r.ok)
        out[op] = {"n": len(rows), "errors": sum(errors.values()), "error_kinds": dict(errors),
                   "rps": len(rows) / window, "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
                   "p99": percentile(latencies, 0.99), "max": latencies[-1],
                   "lag_p99": percentile(sorted(r.lag * 1000 for r in rows), 0.99)}
    total = len(records)
    out["TOTAL"] = {"n": total, "errors": sum(1 for r in records if not r.ok), "rps": total / window,
                    **{k: percentile(sorted(r.latency * 1000 for r in records), q)
                       for k, q in (("p50", .5), ("p95", .95), ("p99", .99))},
                    "max": max((r.latency * 1000 for r in records), default=float("nan")), "error_kinds": {},
                    "lag_p99": percentile(sorted(r.lag * 1000 for r in records), 0.99)}
    return out


def slow_seconds(records: list[Record], threshold_ms: float = 100.0) -> dict[int, list]:
    """The seconds of a phase (from its first request) holding a request slower than the threshold:
    {second: [requests due in it, slower than the threshold, max ms]}. A stall of the whole stack shows
    as every operation slow in the same few seconds; a slow operation, as its own spread."""
    if not records:
        return {}
    first = min(r.start for r in records)
    buckets: dict[int, list] = {}
    for r in records:
        bucket = buckets.setdefault(int(r.start - first), [0, 0, 0.0])
        bucket[0] += 1
        if r.latency * 1000 > threshold_ms:
            bucket[1] += 1
        bucket[2] = round(max(bucket[2], r.latency * 1000), 1)
    return {second: row for second, row in sorted(buckets.items()) if row[1]}


# ---------------------------------------------------------------- observers

class Checkpoints:
    """PostgreSQL's checkpoints during a phase (cluster-wide, pg_stat_bgwriter): a checkpoint's writes and
    the full-page images after it slow commits, which an open loop's tail shows."""

    SQL = text("SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time, "
               "buffers_checkpoint FROM pg_stat_bgwriter")

    def __init__(self, db_name: str):
        self.engine = common.owner_engine(db_name)

    def snapshot(self) -> dict:
        with self.engine.connect() as connection:
            return dict(connection.execute(self.SQL).mappings().one())

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        return {key: round(after[key] - before[key], 1) for key in before}


class WaitSampler(threading.Thread):
    """What the bench database's active backends are doing, every 200 ms (pg_stat_activity)."""

    SQL = text("SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), count(*) FROM pg_stat_activity "
               "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1")

    def __init__(self, db_name: str):
        super().__init__(daemon=True)
        self.engine = common.owner_engine(db_name)
        self.counts: collections.Counter = collections.Counter()
        self.samples = 0
        self.running = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        with self.engine.connect() as connection:
            while not self.stopped.is_set():
                if self.running.is_set():
                    for name, count in connection.execute(self.SQL).all():
                        self.counts[name] += count
                    self.samples += 1
                    connection.rollback()
                time.sleep(0.2)

    def take(self) -> dict:
        counts, samples = dict(self.counts), self.samples
        self.counts, self.samples = collections.Counter(), 0
        return {"samples": samples, "mean_active": {k: round(v / max(samples, 1), 2) for k, v in
                                                     sorted(counts.items(), key=lambda kv: -kv[1])}}


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of gunicorn (master and workers), the bench database's backends and this process."""

    def __init__(self, gunicorn_pid: int, db_name: str):
        self.gunicorn_pid = gunicorn_pid
        self.engine = common.owner_engine(db_name)

    def _pids(self) -> tuple[list[int], list[int]]:
        children = []
        try:
            with open(f"/proc/{self.gunicorn_pid}/task/{self.gunicorn_pid}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            pass
        with self.engine.connect() as connection:
            backends = list(connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                .scalars())
        return [self.gunicorn_pid, *children], backends

    def snapshot(self) -> dict:
        web, backends = self._pids()
        busy, total = _machine()
        return {"web": {p: _cpu_seconds(p) for p in web}, "db": {p: _cpu_seconds(p) for p in backends},
                "self": sum(os.times()[:2]), "busy": busy, "total": total, "at": time.perf_counter()}

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        wall = after["at"] - before["at"]

        def used(kind):
            return sum(after[kind][p] - before[kind].get(p, 0.0) for p in after[kind])

        cores = os.cpu_count() or 1
        return {"wall_s": round(wall, 1), "gunicorn_cores": round(used("web") / wall, 2),
                "postgres_backends_cores": round(used("db") / wall, 2),
                "loadgen_cores": round((after["self"] - before["self"]) / wall, 2),
                "machine_busy_cores": round((after["busy"] - before["busy"]) / (after["total"] - before["total"])
                                            * cores, 2)}


# ---------------------------------------------------------------- the lifecycle

@dataclass
class Unit:
    unit_id: int
    name: str
    token: str
    crew_id: int
    category_ids: list[int]


@dataclass
class Context:
    port: int
    code: str
    desk: str
    units: list[Unit]
    board: bool
    texts: list[str]
    recorder: Recorder = field(default_factory=Recorder)

    @property
    def base(self) -> str:
        return f"/api/v1/t/{self.code}"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def intake(ctx: Context, unit: Unit, rng: random.Random, due=None) -> int | None:
    body = {"source": rng.choice(["phone_110"] * 8 + ["transfer_12345", "online"]),
            "description": f"{rng.choice(ctx.texts)}，{rng.choice(DETAILS)}",
            "address": f"凉州区{rng.choice(['东大街街道', '西关街街道', '黄羊镇', '武南镇'])}"
                       f"{rng.choice(['南大街', '祁连大道', '天马路', '海藏路'])}{rng.randint(1, 300)}号",
            "area_type": "urban", "latitude": round(37.93 + rng.uniform(-.2, .2), 6),
            "longitude": round(102.64 + rng.uniform(-.2, .2), 6), "location_accuracy_m": rng.randint(5, 200),
            "category_id": rng.choice(unit.category_ids), "caller_name": "王先生",
            "caller_phone": f"139{rng.randint(0, 99_999_999):08d}"}
    answer = timed(ctx.recorder, "intake", ctx.port, "POST", f"{ctx.base}/incidents", token=ctx.desk, body=body,
                   due=due)
    return answer.body["incident"]["id"] if answer else None


def issue(ctx: Context, unit: Unit, incident_id: int, due=None) -> tuple[int, int] | None:
    answer = timed(ctx.recorder, "issue", ctx.port, "POST", f"{ctx.base}/incidents/{incident_id}/instructions",
                   token=ctx.desk, body={"instructions": [{"unit_id": unit.unit_id, "role": "lead",
                                                           "note": "请立即处置并反馈"}]}, due=due)
    if answer is None:
        return None
    mine = next(row for row in answer.body if row["unit_id"] == unit.unit_id)
    return mine["id"], mine["version"]


def _move(ctx: Context, op: str, unit: Unit, instruction_id: int, body: dict, due=None) -> int | None:
    answer = timed(ctx.recorder, op, ctx.port, "POST", f"{ctx.base}/instructions/{instruction_id}/{op}",
                   token=unit.token, body={**body, "client_time": _now_iso()}, due=due)
    return answer.body["version"] if answer else None


def acknowledge(ctx, unit, instruction_id, version, due=None):
    return _move(ctx, "acknowledge", unit, instruction_id, {"version": version, "responder_ids": [unit.crew_id]}, due)


def arrive(ctx, unit, instruction_id, version, due=None):
    return _move(ctx, "arrive", unit, instruction_id, {
        "version": version, "text": "已到达现场，正在处置", "media_ids": [],
        "position": {"latitude": 37.93, "longitude": 102.64, "accuracy_m": 12}}, due)


def resolve(ctx, unit, instruction_id, version, due=None):
    return _move(ctx, "resolve", unit, instruction_id, {"version": version, "result_code": "10",
                                                         "text": "已处置完毕", "media_ids": []}, due)


# Reads: (op name, who, path builder).
def read_paths(ctx: Context) -> dict[str, tuple[str, callable]]:
    active = "&".join(f"state={s}" for s in ACTIVE)
    reads = {
        "inbox": ("unit", lambda u, rng: f"{ctx.base}/units/{u.unit_id}/instructions"),
        "inbox_active": ("unit", lambda u, rng: f"{ctx.base}/units/{u.unit_id}/instructions?{active}"),
        "desk_open": ("desk", lambda u, rng: f"{ctx.base}/incidents?state=open"),
        "desk_all": ("desk", lambda u, rng: f"{ctx.base}/incidents"),
        "search": ("desk", lambda u, rng: f"{ctx.base}/incidents?q={rng.choice(SEARCHES)}"),
        "tenant": ("desk", lambda u, rng: ctx.base),
    }
    if ctx.board:
        reads["board_overdue"] = ("desk", lambda u, rng: f"{ctx.base}/board?overdue=true")
        reads["board_unit"] = ("desk", lambda u, rng: f"{ctx.base}/board?unit_id={u.unit_id}&state=open")
    return reads


def read(ctx: Context, op: str, unit: Unit, rng: random.Random, due=None) -> None:
    who, path = read_paths(ctx)[op]
    from urllib.parse import quote

    timed(ctx.recorder, op, ctx.port, "GET", quote(path(unit, rng), safe="/?=&"),
          token=ctx.desk if who == "desk" else unit.token, due=due)


def desk_reads(ctx: Context) -> tuple[str, str]:
    return ("board_overdue", "board_unit") if ctx.board else ("desk_open", "desk_open")


def mix(ctx: Context) -> list[str]:
    """One lifecycle, in order: five writes and four reads."""
    first, second = desk_reads(ctx)
    return ["intake", "inbox", "issue", first, "acknowledge", "inbox_active", "arrive", second, "resolve"]


# ---------------------------------------------------------------- phases

def closed_loop(ctx: Context, clients: int, warmup: float, duration: float, body) -> tuple[list[Record], float]:
    """`clients` threads each calling body(client_index, rng, deadline) until the deadline; records of requests
    sent during the measured window only."""
    start = time.perf_counter()
    measure_from, deadline = start + warmup, start + warmup + duration
    ctx.recorder = Recorder()

    def client(index: int):
        rng = random.Random(index)
        while time.perf_counter() < deadline:
            body(index, rng, deadline)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [r for r in ctx.recorder.records if measure_from <= r.start < deadline]
    return kept, duration


def lifecycle_body(ctx: Context):
    first, second = desk_reads(ctx)

    def body(index: int, rng: random.Random, deadline: float):
        unit = ctx.units[index % len(ctx.units)]
        incident_id = intake(ctx, unit, rng)
        read(ctx, "inbox", unit, rng)
        if incident_id is None:
            return
        issued = issue(ctx, unit, incident_id)
        read(ctx, first, unit, rng)
        if issued is None:
            return
        instruction_id, version = issued
        version = acknowledge(ctx, unit, instruction_id, version)
        read(ctx, "inbox_active", unit, rng)
        if version is None:
            return
        version = arrive(ctx, unit, instruction_id, version)
        read(ctx, second, unit, rng)
        if version is None:
            return
        resolve(ctx, unit, instruction_id, version)

    return body


def hammer_body(ctx: Context, op: str):
    def body(index: int, rng: random.Random, deadline: float):
        unit = ctx.units[index % len(ctx.units)]
        if op == "bare":
            timed(ctx.recorder, "bare", ctx.port, "GET", "/bench/bare")
        elif op == "healthz":
            timed(ctx.recorder, "healthz", ctx.port, "GET", "/healthz")
        else:
            read(ctx, op, unit, rng)

    return body


def open_loop(ctx: Context, rate: float, duration: float, backlog: int, warmup: float = 0.0) -> tuple[list[Record], dict]:
    """The mix at a fixed arrival rate; latency from the due time of each request. The first `warmup`
    seconds are sent at the same rate but not counted, as the closed loop's warm-up is not: the sender's
    thread pool and each worker's first statements of every kind start cold."""
    queues = {step: collections.deque() for step in ("issue", "acknowledge", "arrive", "resolve")}
    prep = random.Random(99)
    ctx.recorder = Recorder()
    # Backlog: `backlog` flows waiting at each write step, so a step never waits for the previous one.
    for n in range(backlog * 4):
        unit = ctx.units[n % len(ctx.units)]
        incident_id = intake(ctx, unit, prep)
        if incident_id is None:
            continue
        if n < backlog:
            queues["issue"].append((unit, incident_id))
            continue
        issued = issue(ctx, unit, incident_id)
        if issued is None:
            continue
        instruction_id, version = issued
        if n < 2 * backlog:
            queues["acknowledge"].append((unit, instruction_id, version))
            continue
        version = acknowledge(ctx, unit, instruction_id, version)
        if version is None:
            continue
        if n < 3 * backlog:
            queues["arrive"].append((unit, instruction_id, version))
            continue
        version = arrive(ctx, unit, instruction_id, version)
        if version is not None:
            queues["resolve"].append((unit, instruction_id, version))
    prep_errors = sum(1 for r in ctx.recorder.records if not r.ok)
    ctx.recorder = Recorder()
    sequence = mix(ctx)
    no_work = collections.Counter()
    rngs = threading.local()
    warm, total = int(rate * warmup), int(rate * duration)

    def slot(k: int, due: float):
        rng = getattr(rngs, "rng", None) or random.Random(k)
        rngs.rng = rng
        op = sequence[k % len(sequence)]
        unit = ctx.units[(k // len(sequence)) % len(ctx.units)]
        if op == "intake":
            incident_id = intake(ctx, unit, rng, due)
            if incident_id is not None:
                queues["issue"].append((unit, incident_id))
            return
        if op in queues:
            try:
                item = queues[op].popleft()
            except IndexError:
                if k >= warm:
                    no_work[op] += 1
                return
            if op == "issue":
                issued = issue(ctx, item[0], item[1], due)
                if issued is not None:
                    queues["acknowledge"].append((item[0], *issued))
                return
            unit, instruction_id, version = item
            version = {"acknowledge": acknowledge, "arrive": arrive, "resolve": resolve}[op](
                ctx, unit, instruction_id, version, due)
            following = {"acknowledge": "arrive", "arrive": "resolve"}.get(op)
            if version is not None and following:
                queues[following].append((unit, instruction_id, version))
            return
        read(ctx, op, unit, rng, due)

    with ThreadPoolExecutor(max_workers=256) as pool:
        first_due = time.perf_counter() + 0.1
        for k in range(warm + total):
            due = first_due + k / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(slot, k, due)
    start = first_due + warm / rate
    records = [r for r in ctx.recorder.records if r.start >= start - 1e-9]
    last_answer = max((r.start + r.latency for r in records), default=start)
    return records, {"no_work": dict(no_work), "backlog": backlog, "prep_errors": prep_errors, "sent": total,
                     "offered_rps": rate,
                     "answered_rps": round(len(records) / max(last_answer - start, 1e-9), 1),
                     "last_answer_after_last_send_s": round(last_answer - (start + (total - 1) / rate), 1),
                     "left_in_queues": {k: len(v) for k, v in queues.items()}}


# ---------------------------------------------------------------- server

def start_gunicorn(db_name: str, state: dict, port: int, workers: int, log_path, source,
                   read_cache_seconds: int | None = None) -> subprocess.Popen:
    """The launcher's command line (app/launcher.py), serving bench.incidents.wsgi:app from `source`."""
    env = common.app_environment(db_name, state, production=True)
    if read_cache_seconds is not None:
        env["READ_CACHE_SECONDS"] = str(read_cache_seconds)
    log = open(log_path, "ab")
    # The launcher's own command line, from the exported tree (its cwd comes first on sys.path); commits
    # from before app.launcher.gunicorn_command existed used this literal one.
    asked = subprocess.run(
        [sys.executable, "-c", "import json; from app.launcher import gunicorn_command; "
         f"print(json.dumps(gunicorn_command({HOST!r}, {port}, {workers}, 'bench.incidents.wsgi:app')))"],
        cwd=source, env=env, capture_output=True, text=True)
    command = (json.loads(asked.stdout.strip().splitlines()[-1]) if asked.returncode == 0 else
               [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(workers),
                "--access-logfile", "-", "bench.incidents.wsgi:app"])
    print(f"gunicorn: {' '.join(command[1:])}", flush=True)
    process = subprocess.Popen(command, cwd=source, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            if request(port, "GET", "/readyz", timeout=5).status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"gunicorn did not become ready; see {log_path}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def login(port: int, username: str) -> str:
    answer = request(port, "POST", "/api/v1/auth/login", body={"username": username, "password": common.PASSWORD})
    if answer.status != 200:
        raise SystemExit(f"login {username}: {answer.status} {answer.raw[:300]!r}")
    return answer.body["access_token"]


# ---------------------------------------------------------------- report

def table(title: str, summary: dict, extra: dict | None = None) -> str:
    lines = [f"### {title}", "", "| operation | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for op, row in sorted(summary.items(), key=lambda kv: (kv[0] == "TOTAL", kv[0])):
        name = f"**{op}**" if op == "TOTAL" else op
        lines.append(f"| {name} | {row['n']} | {row['errors']} | {row['rps']:.1f} | {row['p50']:.1f} | "
                     f"{row['p95']:.1f} | {row['p99']:.1f} | {row['max']:.1f} |")
    kinds = {op: row["error_kinds"] for op, row in summary.items() if row.get("error_kinds")}
    if kinds:
        lines.append("")
        lines.append("errors: " + "; ".join(f"{op}: {k}" for op, k in kinds.items()))
    if extra:
        lines.append("")
        for key, value in extra.items():
            lines.append(f"- {key}: `{json.dumps(value, ensure_ascii=False)}`")
    return "\n".join(lines) + "\n"


def reset_in_hand(db_name: str, state: dict) -> None:
    """Close the incidents that earlier runs created and left open or resolved (ids above the loaded ones)."""
    loaded_max = state.get("loaded_max_incident_id") or state.get("load", {}).get("incidents_requested")
    if not loaded_max:
        raise SystemExit("--reset-in-hand: the state file does not say which incidents were loaded")
    engine = common.owner_engine(db_name)
    with engine.begin() as connection:
        closed = connection.execute(text(
            "UPDATE incidents SET state = 'closed', closed_at = now(), version = version + 1 "
            "WHERE id > :loaded AND state IN ('open', 'resolved')"), {"loaded": loaded_max}).rowcount
    # What earlier runs left dead (timers churn most: 95k dead rows beside 105k live after twenty runs) is
    # vacuumed too: on a server with autovacuum off (this machine's) every run was slower than the last.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        autovacuum = connection.execute(text("SHOW autovacuum")).scalar()
        for table in ("timers", "instructions", "incidents", "instruction_responders", "instruction_feedback",
                      "notifications", "timeline_events"):
            if connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is not None:
                connection.execute(text(f"VACUUM (ANALYZE) {table}"))
    engine.dispose()
    print(f"reset: closed {closed} incidents earlier runs left in hand; vacuumed (autovacuum: {autovacuum})",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the database setup.py filled")
    parser.add_argument("--phases", default="ceiling,reads,closed,open")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=60.0, help="closed-loop mix, seconds measured")
    parser.add_argument("--hammer-duration", type=float, default=15.0, help="each ceiling/read hammer, seconds")
    parser.add_argument("--rate", type=float, default=100.0, help="open loop, requests per second")
    parser.add_argument("--open-duration", type=float, default=60.0)
    parser.add_argument("--backlog", type=int, default=30, help="open loop: flows primed at each write step")
    parser.add_argument("--board", choices=["auto", "on", "off"], default="auto",
                        help="include GET /board reads: auto = if the endpoint answers 200")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")),
                        help="gunicorn workers (the product: WEB_CONCURRENCY, default 2)")
    parser.add_argument("--port", type=int, default=8187)
    parser.add_argument("--read-cache-seconds", type=int, default=None,
                        help="READ_CACHE_SECONDS for the server (default: the product's); 0 = no read cache")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--reset-in-hand", action="store_true",
                        help="first close (as the owner, in SQL) the incidents earlier runs left in hand, so every "
                             "run starts with the board of the loaded data (the mix never closes its incidents), "
                             "and VACUUM (ANALYZE) the tables the mix writes")
    args = parser.parse_args(argv)

    state = common.load_state(args.db)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    common.BENCH_VAR.mkdir(parents=True, exist_ok=True)
    log_path = common.BENCH_VAR / f"gunicorn-{args.db}.log"
    from bench.incidents.load import call_texts

    texts = [t for t in call_texts() if len(t) < 200]
    source, commit = common.source_tree()
    print(f"code: {commit} (exported to {source}); gunicorn workers: {args.workers}", flush=True)
    common.migrate(args.db, state, source)
    if args.reset_in_hand:
        reset_in_hand(args.db, state)
    server = start_gunicorn(args.db, state, args.port, args.workers, log_path, source, args.read_cache_seconds)
    sampler = WaitSampler(args.db)
    sampler.start()
    with sampler.engine.connect() as connection:
        in_hand = connection.execute(text("SELECT state, count(*) FROM incidents WHERE state IN ('open', 'resolved') "
                                          "GROUP BY state")).all()
        extras = connection.execute(text(
            "SELECT (SELECT string_agg(indexname, ',') FROM pg_indexes WHERE indexname LIKE 'bench_ix_%'), "
            "(SELECT proleakproof FROM pg_proc WHERE proname = 'ts_match_vq')")).one()
    print(f"incidents in hand at start: {dict(in_hand)}; what-if indexes: {extras[0]}; "
          f"ts_match_vq leakproof: {extras[1]}", flush=True)
    results: dict = {"db": args.db, "commit": commit, "workers": args.workers, "clients": args.clients,
                     "started": _now_iso(), "loadavg_at_start": os.getloadavg(), "args": vars(args),
                     "load": state.get("load", {}), "in_hand_at_start": dict(in_hand),
                     "whatif_indexes": extras[0], "ts_match_vq_leakproof": extras[1], "phases": {}}
    report = []
    try:
        desk = login(args.port, state["desk"])
        units = [Unit(u["unit_id"], u["short_name"], login(args.port, u["liaison"]), u["crew_id"], u["category_ids"])
                 for u in state["units"] if u["category_ids"]]
        board = args.board == "on"
        if args.board == "auto":
            probe = request(args.port, "GET", f"/api/v1/t/{state['tenant_code']}/board?page_size=1", desk)
            board = probe.status == 200
            print(f"board endpoint: {probe.status} -> {'included' if board else 'NOT included'} "
                  f"{'' if board else probe.raw[:200]!r}", flush=True)
        results["board"] = board
        ctx = Context(args.port, state["tenant_code"], desk, units, board, texts)
        meter = CpuMeter(server.pid, args.db)
        checkpoints = Checkpoints(args.db)

        def run(name: str, fn, *fn_args):
            print(f"phase {name} ...", flush=True)
            sampler.take()
            sampler.running.set()
            before, checkpoints_before = meter.snapshot(), checkpoints.snapshot()
            records, window_or_info = fn(*fn_args)
            after, checkpoints_after = meter.snapshot(), checkpoints.snapshot()
            sampler.running.clear()
            info = window_or_info if isinstance(window_or_info, dict) else {}
            window = window_or_info if not isinstance(window_or_info, dict) else args.open_duration
            summary = summarize(records, window)
            extra = {**info, "cpu": CpuMeter.delta(before, after), "pg_waits": sampler.take(),
                     "checkpoints": Checkpoints.delta(checkpoints_before, checkpoints_after)}
            if isinstance(window_or_info, dict):  # the open loop: where its tail came from
                extra["slow_seconds"] = slow_seconds(records)
            if ctx.recorder.samples:
                extra["error_samples"] = dict(ctx.recorder.samples)
            results["phases"][name] = {"summary": summary, **extra}
            report.append(table(name, summary, extra))
            print(report[-1], flush=True)

        if "ceiling" in phases:
            for op in ("healthz", "bare", "tenant"):
                run(f"ceiling {op}", closed_loop, ctx, args.clients, args.warmup, args.hammer_duration,
                    hammer_body(ctx, op))
        if "reads" in phases:
            for op in [o for o in read_paths(ctx) if o != "tenant"]:
                run(f"reads {op}", closed_loop, ctx, args.clients, args.warmup, args.hammer_duration,
                    hammer_body(ctx, op))
        if "closed" in phases:
            run(f"closed loop, {args.clients} clients, mix", closed_loop, ctx, args.clients, args.warmup,
                args.duration, lifecycle_body(ctx))
        if "open" in phases:
            run(f"open loop, {args.rate:g} req/s, mix", open_loop, ctx, args.rate, args.open_duration, args.backlog,
                args.warmup)
    finally:
        sampler.stopped.set()
        stop_gunicorn(server)
    results["finished"] = _now_iso()
    out = args.out or str(common.BENCH_VAR / f"lifecycle-{args.db}-{int(time.time())}.json")
    with open(out, "w") as f:
        json.dump(results, f, ensure_ascii=False, indent=1, default=str)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
