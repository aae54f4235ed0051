"""Large photos are processed on the `media` queue; the blob row is the truth: a duplicate job does
nothing, and the sweep re-queues a photo whose job was lost."""
from __future__ import annotations

from rq import Queue, SimpleWorker

from tests.factories import assert_error
from tests.media_support import District, district, jpeg, media_root, media_url, set_media, upload  # noqa: F401
from worker.queues import MEDIA


def _work(app, redis_client) -> list:
    queue = Queue(MEDIA, connection=redis_client)
    jobs = queue.jobs
    with app.app_context():  # the job runs in this app, with this test's storage
        SimpleWorker([queue], connection=redis_client).work(burst=True)
    for job in jobs:
        job.refresh()
    return [job.return_value() for job in jobs]


def test_a_large_photo_is_made_ready_by_the_media_worker(app, client, district: District, media_root,
                                                         redis_client, monkeypatch, sql):
    d = district
    set_media(app, monkeypatch, media_sync_max_pixels=0)  # everything goes to the queue
    body = upload(client, d, d.responder, jpeg((1200, 900))).get_json()
    assert body["state"] == "pending"
    assert_error(client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk)), 409, "media_not_ready")
    assert len(Queue(MEDIA, connection=redis_client)) == 1

    # The same job twice (a retry, a re-queue): the first makes the copies, the second finds them made.
    from app.blueprints.media.jobs import enqueue
    with app.test_request_context():
        enqueue(d.tenant.id, body["sha256"])
    assert _work(app, redis_client) == ["ready", "already_ready"]
    assert sql("SELECT state, attempts FROM media_blobs") == [("ready", 1)]
    assert client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk)).status_code == 200


def test_the_sweep_requeues_a_photo_whose_job_was_lost(app, client, district: District, media_root,
                                                       redis_client, monkeypatch, sql):
    from app.blueprints.media.jobs import sweep_media

    d = district
    set_media(app, monkeypatch, media_sync_max_pixels=0)
    upload(client, d, d.responder, jpeg((1200, 900)))
    redis_client.flushdb()  # the job is lost (Redis restarted without persistence)
    with app.app_context():
        assert sweep_media()["media_requeued"] == 0  # queued just now: not stale yet
    sql("UPDATE media_blobs SET enqueued_at = now() - interval '10 minutes'")
    with app.app_context():
        assert sweep_media()["media_requeued"] == 1
    assert _work(app, redis_client) == ["ready"]
    assert sql("SELECT state FROM media_blobs") == [("ready",)]
