"""Originals: the desk, the office and the units holding an instruction on the incident; not a leader,
not another unit. Copies: also leaders; a unit off the incident sees neither."""
from __future__ import annotations

from tests.factories import assert_error, auth
from tests.media_support import District, district, jpeg, make_incident, media_root, media_url, upload  # noqa: F401
from tests.test_instruction_support import issue_one


def test_who_sees_the_original(app, client, factory, district: District, media_root):
    d = district
    incident_id = make_incident(app, d.tenant)
    instruction = issue_one(client, d, incident_id)
    body = upload(client, d, d.liaison, jpeg(), instruction_id=instruction["id"]).get_json()
    gas_responder = factory.user(d.tenant, "responder", unit_id=d.gas_unit_id)
    gas = auth(client, gas_responder)

    for user in (d.desk, d.office, d.liaison, d.unit_leader, d.responder):
        assert client.get(media_url(d, body["id"], "original"), headers=d.h(user)).status_code == 200, user
    assert_error(client.get(media_url(d, body["id"], "original"), headers=d.h(d.city_leader)), 403, "forbidden")
    assert client.get(media_url(d, body["id"], "display"), headers=d.h(d.city_leader)).status_code == 200
    for suffix in ("", "/display", "/original"):
        assert_error(client.get(media_url(d, body["id"]) + suffix, headers=d.h(d.gas_liaison)), 403,
                     "media_not_visible")
        assert_error(client.get(media_url(d, body["id"]) + suffix, headers=gas), 403, "media_not_visible")

    # Once the gas unit holds an instruction on the same incident, it sees the photos too.
    issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    assert client.get(media_url(d, body["id"], "original"), headers=d.h(d.gas_liaison)).status_code == 200
    original = client.get(media_url(d, body["id"], "original"), headers=d.h(d.desk))
    assert original.headers["Cache-Control"] == "private, no-store"
    assert original.headers["Content-Disposition"].startswith("attachment")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
