"""MEDIA_ORIGINAL_RETENTION_DAYS: the sweep deletes originals past it; the copies and the evidence stay."""
from __future__ import annotations

from tests.factories import assert_error
from tests.media_support import (District, district, jpeg, media_root, media_url, set_media,  # noqa: F401
                                 stored_files, upload)


def test_old_originals_are_deleted_and_copies_kept(app, client, district: District, media_root, monkeypatch, sql):
    from app.blueprints.media.jobs import sweep_media

    d = district
    data = jpeg(gps=(37.9, 102.6))
    body = upload(client, d, d.responder, data).get_json()
    set_media(app, monkeypatch, media_original_retention_days=30)
    with app.app_context():
        assert sweep_media()["media_originals_deleted"] == 0
    sql("UPDATE media_blobs SET created_at = now() - interval '31 days'")
    with app.app_context():
        assert sweep_media()["media_originals_deleted"] == 1
    assert not [f for f in stored_files(media_root) if f.endswith("/original")]
    assert_error(client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk)), 410, "original_expired")
    assert client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk)).status_code == 200
    assert client.get(media_url(d, body["id"]), headers=d.h(d.desk)).get_json()["evidence"]["latitude"] == 37.9
    # The same photo uploaded again brings the original back.
    assert upload(client, d, d.responder, data).status_code == 201
    assert client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk)).data == data
