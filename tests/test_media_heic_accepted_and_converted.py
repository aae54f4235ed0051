"""A HEIC photo (iPhones, many Android phones) is accepted, and served as JPEG copies."""
from __future__ import annotations

import io

from PIL import Image

from tests.media_support import District, district, heic, media_root, media_url, upload  # noqa: F401


def test_a_heic_photo_is_accepted_and_converted(client, district: District, media_root):
    d = district
    response = upload(client, d, d.responder, heic((800, 600), make="Apple", model="iPhone 15"),
                      filename="IMG_0001.HEIC", content_type="image/heic")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["width"], body["height"]) == ("heif", 800, 600)
    assert body["evidence"]["device_model"] == "iPhone 15"
    display = client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk))
    assert display.status_code == 200 and display.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(display.data))
    assert (image.format, image.size) == ("JPEG", (800, 600))
    original = client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk))
    assert original.mimetype == "image/heic" and original.data[4:12] == b"ftypheic"
