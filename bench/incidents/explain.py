"""`python -m bench.incidents.explain --db NAME`: EXPLAIN (ANALYZE, BUFFERS) of every query the read endpoints run.

Each read of the benchmark (and a few more desk reads) is sent once through the app (Flask test client,
in the committed code exported by common.source_tree) to warm the caches, then again with a hook on
the engine that, right before each SELECT (or WITH … SELECT) goes to PostgreSQL, runs `EXPLAIN (ANALYZE, BUFFERS)` of the
same statement with the same parameters on the same connection, so in the same transaction, as the app
role, under row-level security with the request's tenant settings: the plans the server really gets.
Prints per endpoint the queries with their execution times, then the full plans of the slowest.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from urllib.parse import quote

from bench.incidents import common


def endpoints(state: dict) -> list[tuple[str, str, str]]:
    """(label, who, path); who is 'desk' or a unit short name (its liaison)."""
    base = f"/api/v1/t/{state['tenant_code']}"
    busiest = state["units"][0]
    unit = busiest["unit_id"]
    active = "&".join(f"state={s}" for s in ("issued", "acknowledged", "en_route", "on_scene"))
    return [
        ("inbox", "unit", f"{base}/units/{unit}/instructions"),
        ("inbox_active", "unit", f"{base}/units/{unit}/instructions?{active}"),
        ("inbox page 50", "unit", f"{base}/units/{unit}/instructions?page=50"),
        ("my tasks (liaison of the unit)", "unit", f"{base}/my/instructions"),
        ("desk_open", "desk", f"{base}/incidents?state=open"),
        ("desk_all", "desk", f"{base}/incidents"),
        ("search 漏水", "desk", f"{base}/incidents?q={quote('漏水')}"),
        ("search 老人", "desk", f"{base}/incidents?q={quote('老人')}"),
        ("search 火车站街道", "desk", f"{base}/incidents?q={quote('火车站街道')}"),
        ("search 彩钢房", "desk", f"{base}/incidents?q={quote('彩钢房')}"),
        ("board", "desk", f"{base}/board"),
        ("board_overdue", "desk", f"{base}/board?overdue=true"),
        ("board_unit", "desk", f"{base}/board?unit_id={unit}&state=open"),
        ("timeline (a closed incident)", "desk", f"{base}/incidents/500000/timeline"),
        ("tenant", "desk", base),
    ]


def run(args) -> int:
    state = common.load_state(args.db)
    os.environ.update(common.app_environment(args.db, state))
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.21"

    def token(username: str) -> str:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": common.PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["access_token"]

    tokens = {"desk": token(state["desk"]), "unit": token(state["units"][0]["liaison"])}
    captured: list[tuple[str, float, str]] = []
    capturing = {"on": False}

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def explain(conn, cursor, statement, parameters, context, executemany):
        if not capturing["on"] or executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            return
        if "set_config(" in statement:
            return
        rows = cursor.connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
        plan = "\n".join(row[0] for row in rows)
        found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
        captured.append((statement, float(found.group(1)) if found else 0.0, plan))

    report: list[tuple[str, str, float, str]] = []  # label, sql, ms, plan
    print(f"EXPLAIN (ANALYZE, BUFFERS) on {args.db}; unit {state['units'][0]['short_name']} "
          f"(id {state['units'][0]['unit_id']})\n")
    for label, who, path in endpoints(state):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        warm = client.get(path, headers=headers)
        captured.clear()
        capturing["on"] = True
        answer = client.get(path, headers=headers)
        capturing["on"] = False
        if answer.status_code != 200 or warm.status_code != 200:
            print(f"{label}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
            continue
        total = sum(ms for _, ms, _ in captured)
        pages = answer.headers.get("X-Pagination", "")
        print(f"{label}: {len(captured)} SELECTs, {total:.1f} ms executing  {pages}")
        for statement, ms, plan in captured:
            first = " ".join(statement.split())[:150]
            print(f"    {ms:8.2f} ms  {first}")
            report.append((label, statement, ms, plan))
    report.sort(key=lambda row: -row[2])
    print(f"\nThe {args.top} slowest queries, in full:\n")
    for label, statement, ms, plan in report[:args.top]:
        print(f"=== {label}: {ms:.2f} ms\n{statement}\n\n{plan}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--top", type=int, default=4, help="print the full plans of this many slowest queries")
    args = parser.parse_args(argv)
    if os.environ.get("BENCH_SOURCE_COMMIT"):
        return run(args)
    source, commit = common.source_tree()
    print(f"code: {commit} (exported to {source})", flush=True)
    env = {**os.environ, "BENCH_SOURCE_COMMIT": commit, "LIANDONG_BENCH_VAR": str(common.BENCH_VAR)}
    return subprocess.run([sys.executable, "-m", "bench.incidents.explain", *(argv or sys.argv[1:])],
                          cwd=source, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
