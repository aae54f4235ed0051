"""`python -m bench.incidents.profile --db NAME`: where one request of the lifecycle mix spends its time.

In-process, through the Flask test client (no gunicorn, no HTTP), against the database `setup.py`
filled. For every operation of the mix (and the bare endpoint and the other reads): SQL statements
per request (counted with an SQLAlchemy `before_cursor_execute` listener, every statement the app
sends including `set_config`, SAVEPOINT and the pool's ping), the mean wall time per request, and
with `--cprofile OP` the top functions of that operation by cumulative time.

Runs the working tree's code (not an export of HEAD): it is for finding the cost before changing it.
`--show-sql OP` prints the statements of one request of OP.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import time
from collections import Counter
from datetime import datetime, timezone

from bench.incidents import common

ACTIVE = ("issued", "acknowledged", "en_route", "on_scene")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cprofile", action="append", default=[], help="operation to profile (repeatable)")
    parser.add_argument("--show-sql", action="append", default=[], help="operation whose SQL to print")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--only", default="", help="comma-separated operations")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after the app is built")
    args = parser.parse_args(argv)

    state = common.load_state(args.db)
    os.environ.update(common.app_environment(args.db, state))
    os.environ["LOG_LEVEL"] = "WARNING"
    from sqlalchemy import event

    from bench.incidents.wsgi import app
    from app.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    sql_time = {"s": 0.0, "started": 0.0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)
        sql_time["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _done(*_args):
        sql_time["s"] += time.perf_counter() - sql_time["started"]

    @event.listens_for(engine, "engine_connect")
    def _ping(_conn):
        pass

    client = app.test_client()
    import gc

    gc_time = {"s": 0.0, "n": [0, 0, 0], "started": 0.0}

    def _gc(phase, info):
        if phase == "start":
            gc_time["started"] = time.perf_counter()
        else:
            gc_time["s"] += time.perf_counter() - gc_time["started"]
            gc_time["n"][info["generation"]] += 1

    gc.callbacks.append(_gc)

    def login(username: str) -> str:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": common.PASSWORD})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()["access_token"]

    code = state["tenant_code"]
    base = f"/api/v1/t/{code}"
    team = state["units"][0]
    desk = {"Authorization": f"Bearer {login(state['desk'])}"}
    unit = {"Authorization": f"Bearer {login(team['liaison'])}"}
    rng = random.Random(7)
    chain: dict = {}

    def now_iso():
        return datetime.now(timezone.utc).isoformat()

    def intake():
        body = {"source": "phone_110", "description": "小区楼道里水管漏水，请尽快派人处理",
                "address": f"凉州区东大街街道南大街{rng.randint(1, 300)}号", "area_type": "urban",
                "latitude": 37.93, "longitude": 102.64, "location_accuracy_m": 20,
                "category_id": team["category_ids"][0], "caller_name": "王先生", "caller_phone": "13912345678"}
        answer = client.post(f"{base}/incidents", json=body, headers=desk)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        chain["incident"] = answer.get_json()["incident"]["id"]

    def issue():
        answer = client.post(f"{base}/incidents/{chain['incident']}/instructions", headers=desk,
                             json={"instructions": [{"unit_id": team["unit_id"], "role": "lead", "note": "请立即处置"}]})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        row = answer.get_json()[0]
        chain["instruction"], chain["version"] = row["id"], row["version"]

    def move(op, body):
        def run():
            answer = client.post(f"{base}/instructions/{chain['instruction']}/{op}", headers=unit,
                                 json={**body, "version": chain["version"], "client_time": now_iso()})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            chain["version"] = answer.get_json()["version"]
        return run

    def get(path, headers):
        def run():
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:300])
        return run

    # The write chain runs in order, each step once per round.
    writes = [("intake", intake), ("issue", issue),
              ("acknowledge", move("acknowledge", {"responder_ids": [team["crew_id"]]})),
              ("arrive", move("arrive", {"text": "已到达现场", "media_ids": [],
                                         "position": {"latitude": 37.93, "longitude": 102.64, "accuracy_m": 12}})),
              ("resolve", move("resolve", {"result_code": "10", "text": "已处置完毕", "media_ids": []}))]
    active = "&".join(f"state={s}" for s in ACTIVE)
    reads = [("bare", get("/bench/bare", {})),
             ("tenant", get(base, desk)),
             ("inbox", get(f"{base}/units/{team['unit_id']}/instructions", unit)),
             ("inbox_active", get(f"{base}/units/{team['unit_id']}/instructions?{active}", unit)),
             ("board_overdue", get(f"{base}/board?overdue=true", desk)),
             ("board_unit", get(f"{base}/board?unit_id={team['unit_id']}&state=open", desk)),
             ("desk_open", get(f"{base}/incidents?state=open", desk)),
             ("desk_all", get(f"{base}/incidents", desk)),
             ("search", get(f"{base}/incidents?q=%E8%80%81%E4%BA%BA", desk))]  # 老人: ~125k matches
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    only = set(filter(None, args.only.split(",")))
    gc_by_op: dict[str, list] = {}
    sql_by_op: dict[str, float] = {}
    profiles = {op: cProfile.Profile() for op in args.cprofile}
    times: dict[str, list[float]] = {}
    counts: dict[str, Counter] = {}

    def measure(op, fn, record: bool):
        statements.clear()
        gc_before = (gc_time["s"], list(gc_time["n"]))
        sql_before = sql_time["s"]
        profile = profiles.get(op) if record else None
        started = time.perf_counter()
        if profile:
            profile.enable()
        fn()
        if profile:
            profile.disable()
        elapsed = time.perf_counter() - started
        if record:
            times.setdefault(op, []).append(elapsed)
            sql_by_op[op] = sql_by_op.get(op, 0.0) + sql_time["s"] - sql_before
            spent = gc_by_op.setdefault(op, [0.0, 0, 0, 0])
            spent[0] += gc_time["s"] - gc_before[0]
            for generation in range(3):
                spent[1 + generation] += gc_time["n"][generation] - gc_before[1][generation]
            counts.setdefault(op, Counter())[len(statements)] += 1
            if op in args.show_sql and len(times[op]) == 1:
                print(f"--- SQL of one {op} ({len(statements)} statements)")
                for statement in statements:
                    print("   ", " ".join(statement.split())[:220])

    for round_ in range(args.repeat + 2):
        record = round_ >= 2  # two warm-up rounds
        for op, fn in writes:
            if not only or op in only or any(o in only for o, _ in writes):
                measure(op, fn, record)
        for op, fn in reads:
            if not only or op in only:
                measure(op, fn, record)

    print(f"{'operation':<14} {'statements':>10} {'mean ms':>8} {'p50 ms':>8} {'min ms':>8} {'sql ms':>7} {'gc ms/req':>9} "
          f"{'gc runs (gen 0/1/2)':>20}")
    for op, values in times.items():
        ordered = sorted(values)
        stmts = ",".join(f"{n}" + (f"x{c}" if len(counts[op]) > 1 else "") for n, c in sorted(counts[op].items()))
        print(f"{op:<14} {stmts:>10} {sum(values) / len(values) * 1000:8.2f} "
              f"{ordered[len(ordered) // 2] * 1000:8.2f} {ordered[0] * 1000:8.2f} "
              f"{sql_by_op[op] / len(values) * 1000:7.2f} {gc_by_op[op][0] / len(values) * 1000:9.2f} {'/'.join(str(n) for n in gc_by_op[op][1:]):>20}")
    for op, profile in profiles.items():
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)
        print(f"\n===== cProfile {op}, {len(times.get(op, []))} requests\n" + out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
