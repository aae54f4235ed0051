"""A file over MEDIA_MAX_BYTES is refused with 413 media_too_large; reading stops at the cap."""
from __future__ import annotations

from tests.media_support import (District, Nothing, assert_refused, district, media_root, noisy_jpeg,  # noqa: F401
                                 set_media, upload)


def test_an_oversized_file_is_refused_and_leaves_nothing(app, client, district: District, media_root,
                                                          owner_engine, monkeypatch):
    data = noisy_jpeg((1600, 1200))
    set_media(app, monkeypatch, media_max_bytes=len(data) - 1)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, data)
    assert_refused(response, 413, "media_too_large", nothing)


def test_a_body_declaring_more_than_the_cap_is_refused_before_it_is_read(app, client, district: District,
                                                                          media_root, owner_engine, monkeypatch):
    set_media(app, monkeypatch, media_max_bytes=10_000)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, noisy_jpeg((1600, 1200)))
    assert_refused(response, 413, "media_too_large", nothing)


def test_a_file_exactly_at_the_cap_is_accepted(app, client, district: District, media_root, monkeypatch):
    data = noisy_jpeg((400, 300))
    set_media(app, monkeypatch, media_max_bytes=len(data))
    assert upload(client, district, district.responder, data).status_code == 201
