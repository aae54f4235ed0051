"""A decompression bomb (a tiny file declaring huge dimensions) is refused before it is decoded."""
from __future__ import annotations

from PIL import Image

from tests.media_support import (District, Nothing, assert_refused, district, encode, media_root,  # noqa: F401
                                 set_media, upload)


def test_a_png_of_too_many_pixels_is_refused_before_decoding(app, client, district: District, media_root,
                                                               owner_engine, monkeypatch):
    # 8000 × 8000 one-bit pixels: a few kilobytes on the wire, 64 megapixels (192 MB as RGB) decoded.
    bomb = encode(Image.new("1", (8_000, 8_000)), "PNG", optimize=True)
    assert len(bomb) < 100_000
    set_media(app, monkeypatch, media_max_pixels=40_000_000)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, bomb, filename="bomb.png", content_type="image/png")
    body = assert_refused(response, 422, "media_too_many_pixels", nothing)
    assert "8000×8000" in body["message"]


def test_beyond_pillows_own_bomb_limit_is_refused_the_same_way(app, client, district: District, media_root,
                                                                owner_engine, monkeypatch):
    # Above Pillow's own guard (2 × MAX_IMAGE_PIXELS), whatever the configured cap.
    set_media(app, monkeypatch, media_max_pixels=10**12)
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG", optimize=True)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, bomb, filename="bomb.png", content_type="image/png")
    assert_refused(response, 422, "media_too_many_pixels", nothing)
