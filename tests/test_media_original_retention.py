"""MEDIA_ORIGINAL_RETENTION_DAYS: the sweep deletes originals not uploaded again for that long; the copies and the
evidence stay. Retention counts from the content's last upload, not its first."""
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
    sql("UPDATE media_blobs SET created_at = now() - interval '31 days', last_referenced_at = now() - interval '31 days'")
    with app.app_context():
        assert sweep_media()["media_originals_deleted"] == 1
    assert not [f for f in stored_files(media_root) if f.endswith("/original")]
    assert_error(client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk)), 410, "original_expired")
    assert client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk)).status_code == 200
    assert client.get(media_url(d, body["id"]), headers=d.h(d.desk)).get_json()["evidence"]["latitude"] == 37.9
    # The same photo uploaded again brings the original back.
    assert upload(client, d, d.responder, data).status_code == 201
    assert client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk)).data == data


def test_content_uploaded_again_keeps_its_original(app, client, district: District, media_root, monkeypatch, sql):
    """A photo first stored long ago and uploaded again minutes ago (another item) is not expired."""
    from app.blueprints.media.jobs import sweep_media

    d = district
    data = jpeg(gps=(37.9, 102.6))
    assert upload(client, d, d.responder, data).status_code == 201
    sql("UPDATE media_blobs SET created_at = now() - interval '40 days', last_referenced_at = now() - interval '40 days'")
    again = upload(client, d, d.liaison, data).get_json()  # the same content, a new item, now
    set_media(app, monkeypatch, media_original_retention_days=30)
    with app.app_context():
        assert sweep_media()["media_originals_deleted"] == 0
    assert client.get(media_url(d, again["id"], "original"), headers=d.h(d.desk)).data == data
    assert sql("SELECT original_deleted_at IS NULL, last_referenced_at > now() - interval '1 minute' "
               "FROM media_blobs") == [(True, True)]
