"""All 8 EXIF orientations: the display copy stands upright (red block top-left, green top-right)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.media_support import District, district, encode, exif_bytes, media_root, media_url, upload  # noqa: F401

T = Image.Transpose
# How a camera stores an upright scene for each orientation value (EXIF 2.3, tag 0x0112):
# the transform that the viewer must undo.
STORED_AS = {1: None, 2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
             6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}


def upright() -> Image.Image:
    image = Image.new("RGB", (640, 480), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 160, 120))      # top-left
    image.paste((0, 255, 0), (480, 0, 640, 120))    # top-right
    return image


def near(pixel, color, tolerance=60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_display_copy_is_upright(client, district: District, media_root, orientation):
    d = district
    scene = upright()
    stored = scene if STORED_AS[orientation] is None else scene.transpose(STORED_AS[orientation])
    data = encode(stored, "JPEG", quality=95, exif=exif_bytes(orientation=orientation))
    body = upload(client, d, d.responder, data).get_json()
    assert (body["width"], body["height"], body["evidence"]["orientation"]) == (640, 480, orientation)
    for variant in ("display", "thumbnail"):
        image = Image.open(io.BytesIO(client.get(media_url(d, body["id"], variant), headers=d.h(d.desk)).data))
        width, height = image.size
        assert width > height, (orientation, variant, image.size)
        rgb = image.convert("RGB")
        assert near(rgb.getpixel((width // 16, height // 16)), (255, 0, 0)), (orientation, variant)
        assert near(rgb.getpixel((width - width // 16, height // 16)), (0, 255, 0)), (orientation, variant)
        assert near(rgb.getpixel((width // 2, height - height // 16)), (0, 0, 255)), (orientation, variant)
        assert image.getexif().get(0x0112) is None
