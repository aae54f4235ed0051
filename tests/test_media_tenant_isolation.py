"""A user of tenant B cannot fetch tenant A's photo: by id, by URL, or by a signed URL with a changed path;
and B's own photo is served to B (so the refusals above are about the tenant, not a broken route)."""
from __future__ import annotations

import io
import uuid

from tests.factories import assert_error, auth
from tests.media_support import District, district, jpeg, media_root, upload  # noqa: F401


def test_tenant_b_cannot_reach_tenant_a_media(client, factory, district: District, media_root):
    from app.blueprints.media import signing

    a = district
    photo = upload(client, a, a.responder, jpeg()).get_json()
    tenant_b = factory.tenant("110105", "朝阳区")
    b_desk = auth(client, factory.user(tenant_b, "dispatcher"))
    a_id = photo["id"]

    # Tenant B's own photo, uploaded by B's desk to B: the control.
    own_b = client.post(f"/api/v1/t/{tenant_b.code}/media", content_type="multipart/form-data", headers=b_desk,
                        data={"id": str(uuid.uuid4()), "file": (io.BytesIO(jpeg((300, 200))),
                                                                 "b.jpg", "image/jpeg")})
    assert own_b.status_code == 201, own_b.get_json()
    own_b = own_b.get_json()
    for suffix in ("", "/display", "/thumbnail", "/original"):
        assert client.get(f"/api/v1/t/{tenant_b.code}/media/{own_b['id']}{suffix}", headers=b_desk).status_code == 200
    assert client.get(own_b["urls"]["display"]).status_code == 200

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
    with client.application.test_request_context():
        b_signed = signing.sign(tenant_b.code, uuid.UUID(a_id), "display")
    assert_error(client.get(b_signed.url), 404, "media_not_found")
    # B's photo's signed URL with A's tenant code: refused the same way.
    b_path, b_query = own_b["urls"]["display"].split("?")
    assert_error(client.get(b_path.replace(f"/{tenant_b.code}/", f"/{a.tenant.code}/") + "?" + b_query),
                 404, "signed_url_invalid")
    assert client.get(photo["urls"]["display"]).status_code == 200  # A's own link still works
