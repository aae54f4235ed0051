"""Polyglots are refused (422 media_polyglot): files that decode as a photo but are also markup or an archive.

- HTML in a JPEG comment at the start, where a browser's content sniffer would find it;
- a ZIP archive appended after the JPEG's end (a GIFAR-style file an archive reader opens);
- HTML appended after a PNG's IEND chunk.
A photo with harmless bytes after its end (some phones append such trailers) stays accepted.
"""
from __future__ import annotations

import io
import zipfile

import pytest

from tests.media_support import (District, Nothing, assert_refused, district, encode, jpeg, media_root,  # noqa: F401
                                 photo, upload)

HTML = b"<html><body><script>alert(document.domain)</script></body></html>"


def jpeg_with_comment(comment: bytes) -> bytes:
    data = jpeg()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", HTML)
    return buffer.getvalue()


@pytest.mark.parametrize("make", [
    lambda: jpeg_with_comment(HTML),
    lambda: jpeg() + zip_archive(),
    lambda: encode(photo(), "PNG") + HTML,
], ids=["html-in-jpeg-comment", "zip-after-jpeg", "html-after-png"])
def test_a_polyglot_is_refused(client, district: District, media_root, owner_engine, make):
    data = make()
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, data)
    assert_refused(response, 422, "media_polyglot", nothing)


def test_a_photo_with_a_harmless_trailer_is_accepted(client, district: District, media_root):
    response = upload(client, district, district.responder, jpeg() + b"\x00" * 64 + b"SEFT")
    assert response.status_code == 201, response.get_json()
