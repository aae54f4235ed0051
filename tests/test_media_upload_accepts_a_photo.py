"""A phone photo is accepted: 201 with id, size, dimensions, sha256, evidence; its copies are served."""
from __future__ import annotations

import hashlib
import io
import uuid

from PIL import Image

from tests.media_support import District, district, jpeg, media_root, media_url, upload  # noqa: F401


def test_a_jpeg_is_accepted_with_its_description_and_copies(client, district: District, media_root):
    d = district
    data = jpeg((1200, 900), gps=(37.928, 102.641), make="HUAWEI", model="P60 Pro")
    media_id = uuid.uuid4()
    response = upload(client, d, d.responder, data, media_id=media_id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == str(media_id)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["size_bytes"], body["width"], body["height"], body["format"]) == (len(data), 1200, 900, "jpeg")
    assert body["state"] == "ready"  # small: made in the request
    assert body["evidence"]["device_model"] == "P60 Pro"
    assert set(body["urls"]) == {"display", "thumbnail", "original"}  # the uploader sees the original

    display = client.get(media_url(d, media_id, "display"), headers=d.h(d.desk))
    assert display.status_code == 200
    assert display.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(display.data)).size == (1200, 900)
    thumbnail = client.get(media_url(d, media_id, "thumbnail"), headers=d.h(d.desk))
    assert max(Image.open(io.BytesIO(thumbnail.data)).size) == 320
    again = client.get(media_url(d, media_id, "thumbnail"), headers={**d.h(d.desk),
                                                                      "If-None-Match": thumbnail.headers["ETag"]})
    assert again.status_code == 304
