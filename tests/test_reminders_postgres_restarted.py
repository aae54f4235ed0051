"""PostgreSQL restarts while timers are firing and messages going out: nothing is lost. Every timer
fires exactly once and every SMS is sent once the server is back. Uses a throwaway cluster (initdb in
a temp dir) and a private Redis, so the shared servers are never restarted."""
from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from app.settings import PROJECT_ROOT
from tests.reminders_support import (PG_BIN, private_redis, throwaway_postgres, wait_for, wait_for_worker,
                                     worker_process)

TIMERS = 300


def _count(url, query):
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            return connection.execute(query).fetchone()[0]
    except psycopg.OperationalError:
        return None  # down: not yet


@pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="needs PostgreSQL 15's initdb/pg_ctl for a "
                                                              "throwaway cluster (the shared server is never restarted)")
def test_nothing_lost_across_a_restart(test_env):
    with throwaway_postgres() as (server_url, restart), private_redis() as (redis_url, redis):
        admin = psycopg.connect(server_url, autocommit=True)
        admin.execute("CREATE DATABASE liandong")
        admin.close()
        url = server_url.rsplit("/", 1)[0] + "/liandong"
        env = {**os.environ, **test_env, "DATABASE_URL": url, "REDIS_URL": redis_url,
               "TIMERS": str(TIMERS), "FIRST_IN": "12", "SPREAD": "15"}
        seeded = subprocess.run([sys.executable, "-c", "from tests.reminders_support import seed_for_restart; "
                                 "seed_for_restart()"], cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=180)
        assert seeded.returncode == 0, seeded.stderr.decode()[-3000:]
        assert seeded.stdout.decode().strip().splitlines()[-1] == str(TIMERS)

        with worker_process(test_env, DATABASE_URL=url, REDIS_URL=redis_url, REMINDER_SWEEP_SECONDS=1) as process:
            wait_for_worker(redis, process)
            # Restart mid-run: some timers have fired, most are still to come.
            wait_for(lambda: (_count(url, "SELECT count(*) FROM timers WHERE state = 'fired'") or 0) >= 20,
                     timeout=60, interval=0.2, message="the first firings")
            restart()
            assert process.poll() is None  # the worker lives through it; failed jobs are redone by the sweep
            wait_for(lambda: _count(url, "SELECT count(*) FROM timers WHERE state = 'pending'") == 0
                     and _count(url, "SELECT count(*) FROM notifications WHERE state = 'pending'") == 0,
                     timeout=120, interval=0.5, message="every timer fired and every SMS sent")

        with psycopg.connect(url) as connection:
            fired = connection.execute("SELECT count(*), count(DISTINCT id), max(attempts) FROM timers "
                                       "WHERE state = 'fired'").fetchone()
            audited = connection.execute("SELECT count(*), count(DISTINCT after->>'timer_id') FROM audit_events "
                                         "WHERE action = 'reminder.yellow'").fetchone()
            sms = connection.execute("SELECT state, count(*) FROM notifications WHERE channel = 'sms' AND kind = 'reminder.yellow' "
                                     "GROUP BY state").fetchall()
            early = connection.execute("SELECT count(*) FROM timers WHERE fired_at < due_at").fetchone()[0]
    assert fired[:2] == (TIMERS, TIMERS)
    assert audited == (TIMERS, TIMERS)  # exactly once: one audit event per timer
    assert sms == [("sent", TIMERS)]
    assert early == 0
