"""A zero-byte file is refused: 422 media_empty, nothing kept."""
from __future__ import annotations

from tests.media_support import District, Nothing, assert_refused, district, media_root, upload  # noqa: F401


def test_an_empty_file_is_refused(client, district: District, media_root, owner_engine):
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, b"")
    assert_refused(response, 422, "media_empty", nothing)
