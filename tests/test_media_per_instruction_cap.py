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


def _arrive_naming(client, d: District, instruction_id: int, media_ids: list[str]) -> None:
    """The unit acknowledges, sets out and arrives, its arrival naming the photos (the feedback route)."""
    from tests.test_instruction_support import act

    act(client, d, instruction_id, "acknowledge", d.liaison, responder_ids=[d.responder.id])
    act(client, d, instruction_id, "set-out", d.responder)
    act(client, d, instruction_id, "arrive", d.responder, media_ids=media_ids)


def test_photos_named_by_feedback_count_towards_the_cap(app, client, district: District, media_root, owner_engine,
                                                         monkeypatch):
    """Uploaded without an instruction, then named by the arrival: they are the instruction's photos, and
    one more upload to it is over the cap."""
    d = district
    set_media(app, monkeypatch, media_max_per_instruction=2)
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    named = [upload(client, d, d.responder, jpeg(size)).get_json()["id"] for size in ((300, 200), (301, 200))]
    _arrive_naming(client, d, instruction["id"], named)
    nothing = Nothing(owner_engine, media_root)
    response = upload(client, d, d.liaison, jpeg((302, 200)), instruction_id=instruction["id"])
    assert_refused(response, 409, "media_limit_reached", nothing)
    listed = client.get(d.url("instructions", instruction["id"], "media"), headers=d.h(d.desk)).get_json()
    assert sorted(p["id"] for p in listed) == sorted(named)


def test_check_attachable_counts_each_id_once(app, client, district: District, media_root, monkeypatch):
    """For the feedback route: ids already counted (attached, or named before) may be named again; new ones
    only while the cap allows, whether or not they have been uploaded yet."""
    import uuid

    import pytest

    from app.blueprints.media.service import check_attachable
    from app.errors import Conflict
    from app.tenants.context import tenant_scope
    from app.database import unit_of_work

    d = district
    set_media(app, monkeypatch, media_max_per_instruction=2)
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    attached = upload(client, d, d.liaison, jpeg((300, 200)), instruction_id=instruction["id"]).get_json()["id"]
    not_yet_uploaded = str(uuid.uuid4())
    with app.app_context(), tenant_scope([d.tenant.id]):
        with unit_of_work():
            check_attachable(instruction["id"], [attached, not_yet_uploaded])  # 2 ids: at the cap
            check_attachable(instruction["id"], [attached])
            with pytest.raises(Conflict) as refused:
                check_attachable(instruction["id"], [not_yet_uploaded, str(uuid.uuid4())])
    assert refused.value.code == "media_limit_reached"
