"""A JPEG cut short (a dropped connection, a damaged card) is refused: 422 media_corrupt, nothing kept."""
from __future__ import annotations

from tests.media_support import (District, Nothing, assert_refused, district, media_root,  # noqa: F401
                                 noisy_jpeg, upload)


def test_a_truncated_jpeg_is_refused_and_leaves_nothing(client, district: District, media_root, owner_engine):
    data = noisy_jpeg((800, 600))
    nothing = Nothing(owner_engine, media_root)
    for cut in (len(data) // 2, len(data) - 2):  # mid-scan, and only the end-of-image marker missing
        response = upload(client, district, district.responder, data[:cut])
        assert_refused(response, 422, "media_corrupt", nothing)
