"""The S3-compatible backend, over real HTTP against moto's server mode (no mocks of boto3)."""
from __future__ import annotations

import dataclasses
import socket

import boto3
import pytest
from rq import Queue, SimpleWorker

from tests.media_support import District, district, jpeg, media_url, upload  # noqa: F401
from worker.queues import MEDIA

BUCKET = "liandong-media"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_storage(app, s3_endpoint, tmp_path, monkeypatch):
    from app.blueprints.media.storage import build_storage

    settings = dataclasses.replace(
        app.extensions["liandong_settings"], media_storage="s3", media_dir=tmp_path / "media",
        media_s3_bucket=BUCKET, media_s3_endpoint_url=s3_endpoint, media_s3_access_key_id="test",
        media_s3_secret_access_key="test", media_s3_prefix="district-media")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET)
    storage = build_storage(settings)
    monkeypatch.setitem(app.extensions, "liandong_settings", settings)
    monkeypatch.setitem(app.extensions, "liandong_media_storage", storage)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_photos_are_stored_and_served_through_s3(app, client, district: District, s3_storage, redis_client,
                                                 monkeypatch):
    d = district
    data = jpeg((1200, 900), gps=(37.9, 102.6))
    body = upload(client, d, d.responder, data).get_json()
    sha = body["sha256"]
    prefix = f"district-media/t/{d.tenant.id}/{sha[:2]}/{sha}"
    assert _keys(s3_storage) == [f"{prefix}/display.jpg", f"{prefix}/original", f"{prefix}/thumbnail.jpg"]
    assert s3_storage.get_object(Bucket=BUCKET, Key=f"{prefix}/original")["Body"].read() == data
    original = client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk))
    assert original.status_code == 200 and original.data == data
    assert client.get(body["urls"]["thumbnail"]).status_code == 200

    # The same content again: stored once.
    upload(client, d, d.liaison, data)
    assert len(_keys(s3_storage)) == 3

    # A large photo: the worker fetches the original from S3 to make its copies.
    monkeypatch.setitem(app.extensions, "liandong_settings",
                        dataclasses.replace(app.extensions["liandong_settings"], media_sync_max_pixels=0))
    big = upload(client, d, d.responder, jpeg((1600, 1200))).get_json()
    assert big["state"] == "pending"
    with app.app_context():
        SimpleWorker([Queue(MEDIA, connection=redis_client)], connection=redis_client).work(burst=True)
    display = client.get(media_url(d, big["id"], "display"), headers=d.h(d.desk))
    assert display.status_code == 200 and display.mimetype == "image/jpeg"
