"""WebP in: accepted by content and described (size, orientation, EXIF evidence). WebP out
(MEDIA_DERIVED_FORMAT=webp): both copies are WebP, with no EXIF, and keep transparency."""
from __future__ import annotations

import io

from PIL import Image

from tests.media_support import (District, district, encode, exif_bytes, media_root, media_url, photo,  # noqa: F401
                                 set_media, upload)


def test_a_webp_photo_is_accepted_and_described(client, district: District, media_root, sql):
    d = district
    data = encode(photo((800, 600)), "WEBP", quality=80,
                  exif=exif_bytes(orientation=6, gps=(37.9, 102.6), make="Google", model="Pixel 9"))
    response = upload(client, d, d.responder, data, filename="x.webp", content_type="image/webp")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["content_type"], body["width"], body["height"]) == ("webp", "image/webp", 600, 800)
    assert body["evidence"]["device_model"] == "Pixel 9" and body["evidence"]["latitude"] == 37.9
    display = client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk))
    image = Image.open(io.BytesIO(display.data))
    assert (display.mimetype, image.size) == ("image/jpeg", (600, 800))  # turned upright
    assert sql("SELECT format, state FROM media_blobs") == [("webp", "ready")]


def test_copies_are_webp_without_exif_when_configured(app, client, district: District, media_root, monkeypatch):
    d = district
    set_media(app, monkeypatch, media_derived_format="webp")
    picture = photo((900, 600)).convert("RGBA")
    picture.putpixel((899, 599), (0, 0, 0, 0))
    picture.paste((0, 0, 0, 0), (800, 500, 900, 600))  # a transparent corner
    data = encode(picture, "PNG", exif=exif_bytes(gps=(37.9, 102.6), make="Xiaomi", model="14 Ultra"))
    body = upload(client, d, d.responder, data, filename="x.png", content_type="image/png").get_json()
    for variant, size in (("display", (900, 600)), ("thumbnail", (320, 213))):
        served = client.get(media_url(d, body["id"], variant), headers=d.h(d.desk))
        assert served.status_code == 200 and served.mimetype == "image/webp", variant
        image = Image.open(io.BytesIO(served.data))
        assert (image.format, image.size, image.mode) == ("WEBP", size, "RGBA"), variant
        assert len(image.getexif()) == 0 and b"Xiaomi" not in served.data and b"Exif" not in served.data, variant
        assert image.getpixel((size[0] - 1, size[1] - 1))[3] == 0, variant  # still transparent
