"""A file over MEDIA_MAX_BYTES is refused with 413 media_too_large; reading stops at the cap."""
from __future__ import annotations

import io
import uuid

from tests.media_support import (District, Nothing, assert_refused, district, media_root, media_url,  # noqa: F401
                                 noisy_jpeg, set_media, upload)


def test_an_oversized_file_is_refused_and_leaves_nothing(app, client, district: District, media_root,
                                                          owner_engine, monkeypatch):
    data = noisy_jpeg((1600, 1200))
    set_media(app, monkeypatch, media_max_bytes=len(data) - 1)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, district, district.responder, data)
    assert_refused(response, 413, "media_too_large", nothing)


def _multipart(d: District, data: bytes) -> tuple[bytes, str]:
    boundary = "liandong-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{uuid.uuid4()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_body_declaring_more_than_the_cap_is_refused_before_it_is_read(app, client, district: District,
                                                                          media_root, owner_engine, monkeypatch):
    """Only the declared length is over the cap (the file itself is under it): refused from the header."""
    from app.blueprints.media.intake import MULTIPART_OVERHEAD

    d = district
    data = noisy_jpeg((400, 300))
    set_media(app, monkeypatch, media_max_bytes=len(data) + 1)
    body, content_type = _multipart(d, data)
    nothing = Nothing(owner_engine, media_root)
    declared = len(data) + 1 + MULTIPART_OVERHEAD + 1
    response = client.post(media_url(d), input_stream=io.BytesIO(body), content_type=content_type,
                           headers=d.h(d.responder), environ_overrides={"CONTENT_LENGTH": str(declared)})
    assert_refused(response, 413, "media_too_large", nothing)
    assert "larger than" in response.get_json()["message"] and "upload" in response.get_json()["message"]


def test_a_body_of_unknown_length_is_cut_off_at_the_cap_while_streaming(app, client, district: District,
                                                                         media_root, owner_engine, monkeypatch):
    """No Content-Length (chunked transfer): only the streaming count can stop it, and does, at the cap."""
    d = district
    data = noisy_jpeg((1600, 1200))
    set_media(app, monkeypatch, media_max_bytes=10_000)
    body, content_type = _multipart(d, data)
    nothing = Nothing(owner_engine, media_root)

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size=-1):
            chunk = super().read(size)
            Counting.read_bytes += len(chunk)
            return chunk

    stream = Counting(body)
    response = client.post(media_url(d), input_stream=stream, content_type=content_type, headers=d.h(d.responder),
                           environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert_refused(response, 413, "media_too_large", nothing)
    assert "The file is larger" in response.get_json()["message"]
    assert Counting.read_bytes < 10_000 + 4 * 65_536  # stopped near the cap, not read to the end
    assert len(body) > 100_000


def test_a_file_exactly_at_the_cap_is_accepted(app, client, district: District, media_root, monkeypatch):
    data = noisy_jpeg((400, 300))
    set_media(app, monkeypatch, media_max_bytes=len(data))
    assert upload(client, district, district.responder, data).status_code == 201
