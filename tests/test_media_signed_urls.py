"""Signed URLs let an <img> tag show a photo without a token; they expire, and fail when tampered with."""
from __future__ import annotations

import time
import uuid

from tests.factories import assert_error
from tests.media_support import District, district, jpeg, media_root, upload  # noqa: F401


def test_a_signed_url_serves_without_a_token(client, district: District, media_root):
    d = district
    body = upload(client, d, d.responder, jpeg()).get_json()
    fresh = client.get(f"/api/v1/t/{d.tenant.code}/media/{body['id']}", headers=d.h(d.city_leader)).get_json()
    assert set(fresh["urls"]) == {"display", "thumbnail"}  # a leader is not given the original
    response = client.get(fresh["urls"]["thumbnail"])
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert fresh["urls_expire_at"] > time.time()


def test_a_tampered_signed_url_is_refused(client, district: District, media_root):
    d = district
    first = upload(client, d, d.responder, jpeg()).get_json()
    second = upload(client, d, d.responder, jpeg((320, 240))).get_json()
    url = first["urls"]["display"]
    path, query = url.split("?")
    signature = query.split("signature=")[1]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    tampered = [
        f"{path}?{query.replace(signature, flipped)}",                       # the signature
        f"{path}?{query.replace('expires=', 'expires=9')}",                   # a later expiry
        f"{path.replace(first['id'], second['id'])}?{query}",                 # another photo
        f"{path.replace('/display', '/original')}?{query}",                   # another copy
        f"{path.replace(first['id'], str(uuid.uuid4()))}?{query}",            # a photo that does not exist
        path,                                                                  # no signature at all
    ]
    for candidate in tampered:
        assert_error(client.get(candidate), 404, "signed_url_invalid")
    assert client.get(url).status_code == 200  # control: the untouched URL works


def test_a_signed_url_expires(app, client, district: District, media_root):
    from app.blueprints.media import signing

    d = district
    body = upload(client, d, d.responder, jpeg()).get_json()
    with app.test_request_context():
        old = signing.sign(d.tenant.code, uuid.UUID(body["id"]), "display", now=time.time() - 3600, ttl_seconds=300)
        assert old.expires < time.time()
    assert_error(client.get(old.url), 403, "signed_url_expired")
