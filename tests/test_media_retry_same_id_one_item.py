"""A retried upload (the answer was lost on a weak network) creates one item, and answers the same."""
from __future__ import annotations

from tests.factories import assert_error
from tests.media_support import District, district, jpeg, media_root, stored_files, upload  # noqa: F401


def test_a_retry_with_the_same_id_creates_one_item(client, district: District, media_root, sql):
    d = district
    data = jpeg()
    first = upload(client, d, d.responder, data, media_id="6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d01")
    second = upload(client, d, d.responder, data, media_id="6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d01")
    assert first.status_code == second.status_code == 201
    strip = lambda body: {k: v for k, v in body.items() if k not in ("urls", "urls_expire_at")}  # noqa: E731
    assert strip(first.get_json()) == strip(second.get_json())
    assert sql("SELECT count(*) FROM media_items")[0][0] == 1
    assert sql("SELECT count(*) FROM media_blobs")[0][0] == 1
    assert len([f for f in stored_files(media_root) if f.endswith("/original")]) == 1


def test_the_same_id_for_another_file_is_a_conflict(client, district: District, media_root, sql):
    d = district
    media_id = "6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d02"
    assert upload(client, d, d.responder, jpeg(), media_id=media_id).status_code == 201
    assert_error(upload(client, d, d.responder, jpeg((320, 240)), media_id=media_id), 409, "media_id_taken")
    assert sql("SELECT count(*) FROM media_items")[0][0] == 1


def test_an_idempotency_key_replays_the_stored_answer(client, district: District, media_root, sql):
    d = district
    data = jpeg()
    key = {"Idempotency-Key": "photo-1"}
    first = upload(client, d, d.responder, data, media_id="6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d03", headers=key)
    again = upload(client, d, d.responder, data, media_id="6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d03", headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.data == first.data
    other = upload(client, d, d.responder, jpeg((300, 200)), headers=key)
    assert_error(other, 422, "idempotency_key_reused")
    assert sql("SELECT count(*) FROM media_items")[0][0] == 1
