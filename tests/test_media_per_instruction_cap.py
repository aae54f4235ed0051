"""At most MEDIA_MAX_PER_INSTRUCTION photos per instruction: one more is 409 media_limit_reached, nothing kept."""
from __future__ import annotations

from tests.media_support import (District, Nothing, assert_refused, district, jpeg, make_incident,  # noqa: F401
                                 media_root, set_media, upload)
from tests.test_instruction_support import issue_one


def test_one_photo_over_the_cap_is_refused(app, client, district: District, media_root, owner_engine, monkeypatch):
    d = district
    set_media(app, monkeypatch, media_max_per_instruction=2)
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    for size in ((300, 200), (301, 200)):
        assert upload(client, d, d.liaison, jpeg(size), instruction_id=instruction["id"]).status_code == 201
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, d, d.liaison, jpeg((302, 200)), instruction_id=instruction["id"])
    assert_refused(response, 409, "media_limit_reached", nothing)
    # Another unit's user may not attach photos to this instruction at all.
    response = upload(client, d, d.gas_liaison, jpeg((303, 200)), instruction_id=instruction["id"])
    assert_refused(response, 403, "not_your_unit", nothing)
