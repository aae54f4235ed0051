"""HTML and SVG files renamed .jpg are not photos: 415 media_unsupported_type, nothing kept."""
from __future__ import annotations

import pytest

from tests.media_support import District, Nothing, assert_refused, district, media_root, upload  # noqa: F401

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')


@pytest.mark.parametrize("data", [HTML, SVG], ids=["html", "svg"])
def test_markup_renamed_to_jpg_is_refused(client, district: District, media_root, owner_engine, data):
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, data, filename="photo.jpg", content_type="image/jpeg")
    assert_refused(response, 415, "media_unsupported_type", nothing)
