"""The format is decided by decoding: a PNG sent as photo.jpg with image/jpeg is accepted as a PNG."""
from __future__ import annotations

from tests.media_support import District, district, encode, media_root, photo, upload  # noqa: F401


def test_a_png_named_and_declared_as_jpeg_is_accepted_as_png(client, district: District, media_root):
    response = upload(client, district, district.responder, encode(photo(), "PNG"),
                      filename="photo.jpg", content_type="image/jpeg")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["content_type"]) == ("png", "image/png")
    assert body["state"] == "ready"
