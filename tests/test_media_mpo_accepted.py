"""A JPEG with a Multi-Picture (MPF) header, as Ultra HDR and many Samsung/Canon phones write it, is a JPEG:
Pillow names it MPO; it is accepted as `jpeg`, decoded at reduced scale, and its copies are made."""
from __future__ import annotations

import io

from PIL import Image

from tests.media_support import District, district, media_root, media_url, photo, upload  # noqa: F401


def mpo(size=(1600, 1200)) -> bytes:
    buffer = io.BytesIO()
    first, second = photo(size), photo((size[0] // 4, size[1] // 4), color=(200, 200, 200))
    first.save(buffer, format="MPO", save_all=True, append_images=[second], quality=90)
    return buffer.getvalue()


def test_an_mpo_photo_is_accepted_as_jpeg(client, district: District, media_root, sql):
    d = district
    data = mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    response = upload(client, d, d.responder, data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["content_type"], body["width"], body["height"]) == ("jpeg", "image/jpeg", 1600, 1200)
    assert body["state"] == "ready"
    display = client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk))
    assert display.status_code == 200
    assert Image.open(io.BytesIO(display.data)).size == (1600, 1200)
    assert sql("SELECT format, state FROM media_blobs") == [("jpeg", "ready")]
