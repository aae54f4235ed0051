"""The worker: queues, and the maintenance sweep run through real RQ on real Redis."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from rq import Queue, SimpleWorker

from app.settings import PROJECT_ROOT
from tests.factories import login
from worker.queues import DEFAULT, JOB_QUEUES, QUEUES, queue_for


def _age_everything(sql):
    sql("UPDATE token_families SET expires_at = now() - interval '1 minute'")
    sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 minute'")


def _seed_keys_and_families(client, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = {"Authorization": f"Bearer {login(client, admin)['access_token']}", "Idempotency-Key": "k-1"}
    body = {"username": "crew-1", "display_name": "队员", "password": "Crew-2026x", "roles": ["dispatcher"]}
    assert client.post("/api/v1/t/620602/users", headers=headers, json=body).status_code == 201
    return tenant


def test_every_routed_job_goes_to_a_known_queue():
    from worker.queues import DELIVERY_FIRST

    assert set(JOB_QUEUES.values()) <= set(QUEUES)  # the main process serves every queue
    assert QUEUES[0] == "critical" and DELIVERY_FIRST[0] == "delivery" and "critical" not in DELIVERY_FIRST


def test_maintenance_sweep_purges_only_what_expired(client, factory, sql, redis_client):
    from app.blueprints.ops.jobs import sweep_maintenance

    _seed_keys_and_families(client, factory)
    _age_everything(sql)
    # A login family that has not expired must stay.
    sql("INSERT INTO token_families (id, user_id, current_jti, created_at, expires_at) "
        "SELECT gen_random_uuid(), id, 'j', now(), now() + interval '1 day' FROM users LIMIT 1")

    job = queue_for(sweep_maintenance, redis_client).enqueue(sweep_maintenance)
    SimpleWorker([Queue(DEFAULT, connection=redis_client)], connection=redis_client).work(burst=True)

    job.refresh()
    assert job.is_finished, job.latest_result()
    assert job.return_value() == {"idempotency_keys": 1, "token_families": 1}
    assert sql("SELECT count(*) FROM idempotency_keys")[0][0] == 0
    assert sql("SELECT count(*) FROM token_families")[0][0] == 1


def test_a_duplicated_sweep_job_is_harmless(client, factory, sql, redis_client):
    from app.blueprints.ops.jobs import sweep_maintenance

    _seed_keys_and_families(client, factory)
    _age_everything(sql)
    queue = queue_for(sweep_maintenance, redis_client)
    first, second = queue.enqueue(sweep_maintenance), queue.enqueue(sweep_maintenance)
    SimpleWorker([queue], connection=redis_client).work(burst=True)

    first.refresh(), second.refresh()
    assert first.return_value() == {"idempotency_keys": 1, "token_families": 1}
    assert second.return_value() == {"idempotency_keys": 0, "token_families": 0}


def test_the_worker_process_starts_and_runs_jobs(test_env, client, factory, sql, redis_client):
    from app.blueprints.ops.jobs import sweep_maintenance

    _seed_keys_and_families(client, factory)
    _age_everything(sql)
    process = subprocess.Popen([sys.executable, "-m", "worker"], cwd=PROJECT_ROOT,
                               env={**os.environ, **test_env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        job = queue_for(sweep_maintenance, redis_client).enqueue(sweep_maintenance)
        result = job.latest_result(timeout=60)  # blocks on RQ's result stream, up to the deadline
        assert process.poll() is None
        assert result is not None and result.type == result.Type.SUCCESSFUL, result and result.exc_string
        assert sql("SELECT count(*) FROM idempotency_keys")[0][0] == 0
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_worker_process_runs_the_cron_sweeps(test_env, redis_client):
    from rq.cron import CronScheduler

    from worker.cron import CRON_NAME

    process = subprocess.Popen([sys.executable, "-m", "worker"], cwd=PROJECT_ROOT,
                               env={**os.environ, **test_env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        names: list[str] = []
        while time.monotonic() < deadline and CRON_NAME not in names:
            assert process.poll() is None
            names = [cron.name for cron in CronScheduler.all(redis_client)]
            time.sleep(0.2)  # the cron child registers itself in Redis; nothing to block on
        assert CRON_NAME in names, process.stdout.read1().decode() if process.stdout else ""
    finally:
        process.terminate()
        process.wait(timeout=30)
