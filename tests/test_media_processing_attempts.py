"""Attempts at making a photo's copies end: each is counted in its own committed transaction before the
work, so a worker killed mid-render still used one, and after MAX_ATTEMPTS the photo is `failed` (not
pending for ever). Storage trouble is not the photo's fault: it does not use attempts, and is retried
with backoff. Operators can give failed photos another round (`requeue_failed`)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.media_support import District, district, jpeg, media_root, set_media, upload  # noqa: F401
from app.settings import PROJECT_ROOT


class Killed(BaseException):
    """What a job timeout, SIGTERM or interpreter exit looks like from inside: not an Exception."""


def _pending_photo(app, client, d, monkeypatch) -> str:
    set_media(app, monkeypatch, media_sync_max_pixels=0)  # processed by the "worker" below
    body = upload(client, d, d.responder, jpeg((1200, 900))).get_json()
    assert body["state"] == "pending"
    return body["sha256"]


def _process(app, tenant_id, sha256):
    from app.blueprints.media import processing
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant_id]):
        return processing.process_blob(tenant_id=tenant_id, sha256=sha256)


def _sweep(app):
    from app.blueprints.media.jobs import sweep_media

    with app.app_context():
        return sweep_media()


def test_a_render_killed_every_time_ends_failed_after_max_attempts(app, client, district: District, media_root,
                                                                   monkeypatch, sql):
    from app.blueprints.media import processing

    d = district
    sha = _pending_photo(app, client, d, monkeypatch)

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(processing, "render", killed)
    for attempt in range(1, processing.MAX_ATTEMPTS + 1):
        with pytest.raises(Killed):
            _process(app, d.tenant.id, sha)
        # The attempt is on the row although the job never got to record anything.
        assert sql("SELECT state, attempts FROM media_blobs") == [("processing", attempt)]
        assert _process(app, d.tenant.id, sha) == "busy"  # a fresh claim: another job keeps off
        sql("UPDATE media_blobs SET claimed_at = now() - interval '1 hour'")  # past the job timeout
        assert _sweep(app)["media_stale_claims"] == 1
    assert sql("SELECT state, attempts FROM media_blobs") == [("failed", processing.MAX_ATTEMPTS)]
    assert "stopped" in sql("SELECT last_error FROM media_blobs")[0][0]
    # Nothing re-queues it any more.
    assert _sweep(app)["media_requeued"] == 0


WORKER = textwrap.dedent(r"""
    import sys, time
    from app import create_app
    from app.blueprints.media import processing
    from app.tenants.context import tenant_scope

    def hang(*args, **kwargs):
        print("rendering", flush=True)
        time.sleep(600)

    processing.render = hang
    app = create_app()
    with app.app_context(), tenant_scope([int(sys.argv[1])]):
        processing.process_blob(tenant_id=int(sys.argv[1]), sha256=sys.argv[2])
""")


def test_a_worker_sigkilled_mid_render_has_used_its_attempt(app, client, district: District, media_root,
                                                            monkeypatch, sql):
    from app.blueprints.media import processing

    d = district
    sha = _pending_photo(app, client, d, monkeypatch)
    sql(f"UPDATE media_blobs SET attempts = {processing.MAX_ATTEMPTS - 1}")  # two attempts already died
    env = {**os.environ, "MEDIA_DIR": str(media_root)}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(d.tenant.id), sha], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "rendering", worker.stderr.read()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert sql("SELECT state, attempts FROM media_blobs") == [("processing", processing.MAX_ATTEMPTS)]
    sql("UPDATE media_blobs SET claimed_at = now() - interval '1 hour'")
    _sweep(app)
    assert sql("SELECT state FROM media_blobs") == [("failed",)]


def test_storage_errors_use_no_attempt_and_are_retried_with_backoff(app, client, district: District, media_root,
                                                                    monkeypatch, sql, redis_client):
    from app.blueprints.media import processing
    from app.blueprints.media.storage import LocalStorage

    d = district
    sha = _pending_photo(app, client, d, monkeypatch)

    def disk_full(self, key, path, content_type):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as broken:
        broken.setattr(LocalStorage, "put_file", disk_full)
        for errors in range(1, processing.MAX_ATTEMPTS + 3):
            assert _process(app, d.tenant.id, sha) == "storage_error"
            assert sql("SELECT state, attempts, storage_errors FROM media_blobs") == [("pending", 0, errors)]
            sql("UPDATE media_blobs SET next_attempt_at = now() - interval '1 second'")
    # Backoff: not re-queued before next_attempt_at, re-queued after it.
    sql("UPDATE media_blobs SET enqueued_at = now() - interval '1 hour', next_attempt_at = now() + interval '1 hour'")
    assert _sweep(app)["media_requeued"] == 0
    sql("UPDATE media_blobs SET next_attempt_at = now() - interval '1 second'")
    assert _sweep(app)["media_requeued"] == 1
    assert "No space left" in sql("SELECT last_error FROM media_blobs")[0][0]
    # The store works again: the photo is made, not given up on.
    assert _process(app, d.tenant.id, sha) == "ready"
    assert sql("SELECT state, attempts, storage_errors, next_attempt_at FROM media_blobs") == [("ready", 1, 0, None)]


def test_an_undecodable_original_fails_after_max_attempts_and_ops_can_requeue_it(app, client, district: District,
                                                                                 media_root, monkeypatch, sql):
    from app.blueprints.media import processing
    from app.blueprints.media.jobs import requeue_failed

    d = district
    sha = _pending_photo(app, client, d, monkeypatch)
    real_render = processing.render

    def broken(*args, **kwargs):
        raise OSError("broken data stream when reading image file")  # Pillow's decode error: no errno

    monkeypatch.setattr(processing, "render", broken)
    outcomes = [_process(app, d.tenant.id, sha) for _ in range(processing.MAX_ATTEMPTS)]
    assert outcomes == ["pending"] * (processing.MAX_ATTEMPTS - 1) + ["failed"]
    assert _process(app, d.tenant.id, sha) == "already_failed"
    monkeypatch.setattr(processing, "render", real_render)
    with app.app_context():
        assert requeue_failed() == 1
    assert sql("SELECT state, attempts FROM media_blobs") == [("pending", 0)]
    assert _process(app, d.tenant.id, sha) == "ready"


def test_the_cli_requeues_failed_photos(app, client, district: District, media_root, monkeypatch, sql):
    from app.blueprints.media.cli import media_cli

    d = district
    _pending_photo(app, client, d, monkeypatch)
    sql("UPDATE media_blobs SET state = 'failed', attempts = 3")
    result = app.test_cli_runner().invoke(media_cli, ["requeue-failed", "--tenant", d.tenant.code])
    assert result.exit_code == 0, result.output
    assert "re-queued 1" in result.output
    assert sql("SELECT state, attempts FROM media_blobs") == [("pending", 0)]
