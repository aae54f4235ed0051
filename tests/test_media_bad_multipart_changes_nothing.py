"""Bad multipart input to the upload gets a 4xx with the uniform body and changes nothing (no row, no file).

The shared bad-input sweep sends JSON; this is its multipart twin for POST /media: each case
breaks a valid upload in exactly one way.
"""
from __future__ import annotations

import io
import uuid

import pytest

from tests.media_support import (District, Nothing, assert_refused, district, jpeg, make_incident,  # noqa: F401
                                 media_root, media_url)
from tests.test_instruction_support import issue_one

PHOTO = jpeg((200, 150))


def _form(**changes):
    form = {"id": str(uuid.uuid4()), "file": (io.BytesIO(PHOTO), "p.jpg", "image/jpeg")}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _raw(boundary: str, body: bytes) -> dict:
    return dict(data=body, content_type=f"multipart/form-data; boundary={boundary}")


CASES = [
    ("JSON instead of multipart", lambda d: dict(json={"id": str(uuid.uuid4())}), 415, "multipart_required"),
    ("multipart without a boundary", lambda d: dict(data=b"x", content_type="multipart/form-data"), 415,
     "multipart_required"),
    ("id missing", lambda d: dict(data=_form(id=None), content_type="multipart/form-data"), 422, "validation_error"),
    ("id not a UUID", lambda d: dict(data=_form(id="../../etc"), content_type="multipart/form-data"), 422,
     "validation_error"),
    ("file missing", lambda d: dict(data=_form(file=None), content_type="multipart/form-data"), 422, "file_required"),
    ("file sent as a plain field", lambda d: dict(data=_form(file="not a file"), content_type="multipart/form-data"),
     422, "unknown_field"),
    ("an unknown field", lambda d: dict(data=_form(extra="1"), content_type="multipart/form-data"), 422,
     "unknown_field"),
    ("two files", lambda d: dict(data={**_form(), "file2": (io.BytesIO(PHOTO), "q.jpg", "image/jpeg")},
                                 content_type="multipart/form-data"), 422, "unknown_field"),
    ("an overlong field", lambda d: dict(data=_form(instruction_id="1" * 500), content_type="multipart/form-data"),
     422, "field_too_long"),
    ("instruction_id not a number", lambda d: dict(data=_form(instruction_id="abc"),
                                                   content_type="multipart/form-data"), 422, "validation_error"),
    ("instruction_id naming nothing", lambda d: dict(data=_form(instruction_id="987654321"),
                                                     content_type="multipart/form-data"), 422, "instruction_not_found"),
    ("a body cut before its closing boundary", lambda d: _raw(
        "XyZ", b"--XyZ\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n" + str(uuid.uuid4()).encode()
        + b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
        b"Content-Type: image/jpeg\r\n\r\n" + PHOTO[:500]), 400, "multipart_malformed"),
]


@pytest.mark.parametrize("label, make, status, code", CASES, ids=[c[0] for c in CASES])
def test_bad_multipart_is_refused_and_changes_nothing(client, district: District, media_root, owner_engine,
                                                      label, make, status, code):
    nothing = Nothing(owner_engine, media_root)
    response = client.post(media_url(district), headers=district.h(district.responder), **make(district))
    assert_refused(response, status, code, nothing)


def test_a_supervisor_cannot_upload_and_nothing_changes(app, client, factory, district: District, media_root,
                                                        owner_engine):
    from tests.factories import auth

    supervisor = auth(client, factory.user(None, "provincial_supervisor", province_code=district.tenant.province_code))
    nothing = Nothing(owner_engine, media_root)
    response = client.post(media_url(district), headers=supervisor, data=_form(), content_type="multipart/form-data")
    assert_refused(response, 403, "read_only", nothing)
    instruction = issue_one(client, district, make_incident(app, district.tenant))
    nothing = Nothing(owner_engine, media_root)
    response = client.post(media_url(district), headers=district.h(district.city_leader),
                           data=_form(instruction_id=str(instruction["id"])), content_type="multipart/form-data")
    assert_refused(response, 403, "forbidden", nothing)
