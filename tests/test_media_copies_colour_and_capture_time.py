"""Copies are sRGB with no embedded profile: a photo's own ICC profile is applied (its colours converted),
never copied into what is served. Capture time is only EXIF DateTimeOriginal/DateTimeDigitized: IFD0's
DateTime is when the file was last changed, so it is not evidence of when the photo was taken."""
from __future__ import annotations

import io
import struct

from PIL import Image

from tests.media_support import District, district, encode, exif_bytes, media_root, media_url, photo, upload  # noqa: F401


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def swapped_rgb_profile() -> bytes:
    """A valid ICC v2 RGB matrix/TRC profile whose red and green primaries are exchanged: a pixel stored
    as (255, 0, 0) in it is green. Made in code (the system has no .icc files to borrow)."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    tags = [(b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", _xyz(*green)), (b"gXYZ", _xyz(*red)),
            (b"bXYZ", _xyz(*blue)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table = data = b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 28 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data


def _display(client, d, body) -> Image.Image:
    served = client.get(media_url(d, body["id"], "display"), headers=d.h(d.desk))
    assert served.status_code == 200
    return Image.open(io.BytesIO(served.data))


def test_a_foreign_icc_profile_is_applied_and_not_served(client, district: District, media_root):
    d = district
    data = encode(photo((400, 300)), "JPEG", quality=95, icc_profile=swapped_rgb_profile())
    body = upload(client, d, d.responder, data).get_json()
    image = _display(client, d, body)
    assert "icc_profile" not in image.info  # untagged: sRGB
    r, g, b = image.convert("RGB").getpixel((10, 10))  # the corner block, stored as red
    assert g > 200 and r < 60, (r, g, b)  # shown as the profile means it: green


def test_an_unusable_icc_profile_is_dropped(client, district: District, media_root):
    d = district
    junk = b"<script>alert(1)</script>" + b"\0" * 200  # not a profile; must not reach a browser
    data = encode(photo((400, 300)), "PNG", icc_profile=junk)
    body = upload(client, d, d.responder, data, filename="p.png", content_type="image/png").get_json()
    image = _display(client, d, body)
    assert "icc_profile" not in image.info
    assert image.convert("RGB").getpixel((10, 10))[0] > 200  # red stays red


def test_only_the_capture_times_are_capture_time(client, district: District, media_root):
    d = district
    exif = Image.Exif()
    exif[0x0132] = "2026:11:29 09:30:00"  # DateTime: last modified (an editor, a messenger re-saving it)
    only_modified = encode(photo((300, 200)), "JPEG", exif=exif.tobytes())
    assert upload(client, d, d.responder, only_modified).get_json()["evidence"]["taken_at"] is None
    from datetime import datetime

    taken = encode(photo((301, 200)), "JPEG", exif=exif_bytes(taken_at=datetime(2026, 11, 28, 8, 0), offset="+08:00"))
    assert upload(client, d, d.responder, taken).get_json()["evidence"]["taken_at"].startswith("2026-11-28T08:00:00")
