"""EXIF GPS, time and device are kept in the database as evidence and absent from the served copies."""
from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from tests.media_support import District, district, jpeg, media_root, media_url, upload  # noqa: F401


def test_gps_is_stored_as_evidence_and_stripped_from_copies(client, district: District, media_root, sql):
    d = district
    data = jpeg((1000, 750), gps=(37.928123, 102.641456), taken_at=datetime(2026, 11, 29, 9, 30), offset="+08:00",
                make="Xiaomi", model="14 Ultra")
    body = upload(client, d, d.responder, data).get_json()
    evidence = body["evidence"]
    assert abs(evidence["latitude"] - 37.928123) < 1e-5 and abs(evidence["longitude"] - 102.641456) < 1e-5
    assert evidence["taken_at"].startswith("2026-11-29T09:30:00")
    assert (evidence["device_make"], evidence["device_model"]) == ("Xiaomi", "14 Ultra")
    (lat, lon, taken), = sql("SELECT gps_latitude, gps_longitude, taken_at FROM media_blobs")
    assert abs(float(lat) - 37.928123) < 1e-5 and abs(float(lon) - 102.641456) < 1e-5
    assert taken.isoformat().startswith("2026-11-29T01:30:00")  # stored in UTC

    original = client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk))
    assert original.data == data  # the evidence, as taken
    assert Image.open(io.BytesIO(original.data)).getexif().get_ifd(0x8825)
    for variant in ("display", "thumbnail"):
        served = client.get(media_url(d, body["id"], variant), headers=d.h(d.desk)).data
        image = Image.open(io.BytesIO(served))
        assert len(image.getexif()) == 0, variant
        assert "exif" not in image.info and b"Exif\x00\x00" not in served and b"Xiaomi" not in served, variant
