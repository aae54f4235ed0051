"""A user of tenant B cannot fetch tenant A's photo: by id, by URL, or by a signed URL with a changed path."""
from __future__ import annotations

from tests.factories import assert_error, auth
from tests.media_support import District, district, jpeg, media_root, upload  # noqa: F401


def test_tenant_b_cannot_reach_tenant_a_media(client, factory, district: District, media_root):
    a = district
    photo = upload(client, a, a.responder, jpeg()).get_json()
    tenant_b = factory.tenant("110105", "朝阳区")
    b_desk = auth(client, factory.user(tenant_b, "dispatcher"))
    own_b = upload(client, a, a.responder, jpeg((300, 200))).get_json()  # control material below
    a_id = photo["id"]

    for suffix in ("", "/display", "/thumbnail", "/original"):
        # A's path: the gate answers as if A did not exist.
        assert_error(client.get(f"/api/v1/t/{a.tenant.code}/media/{a_id}{suffix}", headers=b_desk),
                     404, "tenant_not_found")
        # B's path with A's id: the row is not B's (ORM filter and RLS).
        assert_error(client.get(f"/api/v1/t/{tenant_b.code}/media/{a_id}{suffix}", headers=b_desk),
                     404, "media_not_found")

    # A's signed URL with B's tenant code in its path: the signature covers the tenant.
    path, query = photo["urls"]["display"].split("?")
    moved = path.replace(f"/media-signed/{a.tenant.code}/", f"/media-signed/{tenant_b.code}/")
    assert_error(client.get(f"{moved}?{query}"), 404, "signed_url_invalid")
    # A signature minted for B's tenant code cannot be pointed at A's photo either.
    from app.blueprints.media import signing
    import uuid
    with client.application.test_request_context():
        b_signed = signing.sign(tenant_b.code, uuid.UUID(a_id), "display")
    assert_error(client.get(b_signed.url), 404, "media_not_found")
    assert client.get(photo["urls"]["display"]).status_code == 200  # control
    assert own_b["id"] != a_id
