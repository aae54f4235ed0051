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


def test_a_key_whose_answer_was_lost_after_the_commit_is_answered_from_the_item(app, client, district: District,
                                                                               media_root, monkeypatch, sql):
    """The upload committed, then building the answer failed (500): the key is left in flight. The retry
    is answered from the committed item (201, fresh URLs), not 409 for a day; and then replayed."""
    from app.blueprints.media import service

    d = district
    data = jpeg()
    media_id = "6f1d2a52-3c4e-4a5e-9a53-5d2f3b8c9d04"
    key = {"Idempotency-Key": "photo-lost-answer"}
    real_present = service.present
    calls = []

    def present_fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the answer could not be built")
        return real_present(*args, **kwargs)

    monkeypatch.setattr(service, "present", present_fails_once)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert upload(client, d, d.responder, data, media_id=media_id, headers=key).status_code == 500
    assert sql("SELECT state FROM idempotency_keys") == [("in_flight",)]
    assert sql("SELECT count(*) FROM media_items")[0][0] == 1

    retry = upload(client, d, d.responder, data, media_id=media_id, headers=key)
    assert retry.status_code == 201, retry.get_json()
    assert retry.get_json()["id"] == media_id and retry.get_json()["urls"]["display"]
    assert sql("SELECT state, status_code FROM idempotency_keys") == [("done", 201)]
    again = upload(client, d, d.responder, data, media_id=media_id, headers=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.data == retry.data
    assert sql("SELECT count(*) FROM media_items")[0][0] == 1
