"""Evidence flags: a capture time far from the feedback's, a GPS position far from the incident.
The feedback may name a photo before the photo is uploaded (an offline phone)."""
from __future__ import annotations

import uuid
from datetime import datetime

from tests.media_support import District, district, jpeg, make_incident, media_root, upload  # noqa: F401
from tests.test_instruction_support import issue_one


def _incident_at(app, d, lat, lon) -> int:
    from app.blueprints.incidents.models import Incident
    from app.extensions import db
    from app.tenants.context import tenant_scope

    incident_id = make_incident(app, d.tenant)
    with app.app_context(), tenant_scope([d.tenant.id]):
        incident = db.session.get(Incident, (d.tenant.id, incident_id))
        incident.latitude, incident.longitude = lat, lon
        db.session.commit()
    return incident_id


def test_feedback_first_then_photo_flags_time_and_place(app, client, district: District, media_root, sql):
    d = district
    instruction = issue_one(client, d, _incident_at(app, d, 37.928, 102.641))
    version = instruction["version"]
    action = lambda name, **body: client.post(d.action_url(instruction["id"], name), headers=d.h(d.liaison),  # noqa
                                              json={"version": version, **body})
    response = action("acknowledge")
    version = response.get_json()["version"]
    response = action("set-out")
    version = response.get_json()["version"]
    far, near = uuid.uuid4(), uuid.uuid4()
    response = action("arrive", client_time="2026-11-29T10:00:00+08:00", text="到场", media_ids=[str(far), str(near)])
    assert response.status_code == 200, response.get_json()

    # Taken three hours before the arrival report, 30 km away.
    stale = upload(client, d, d.liaison, jpeg(taken_at=datetime(2026, 11, 29, 7, 0), offset="+08:00",
                                              gps=(38.2, 102.641)), media_id=far).get_json()
    assert stale["instruction_id"] == instruction["id"] and stale["feedback_id"] is not None
    assert sorted(stale["flags"]) == ["capture_time_far_from_feedback", "gps_far_from_incident"]
    assert stale["evidence"]["capture_offset_minutes"] == -180.0
    assert stale["evidence"]["distance_from_incident_m"] > 25_000

    fine = upload(client, d, d.liaison, jpeg((500, 400), taken_at=datetime(2026, 11, 29, 9, 55), offset="+08:00",
                                             gps=(37.9282, 102.6412)), media_id=near).get_json()
    assert fine["flags"] == []
    assert sql("SELECT flags FROM media_items WHERE id = :i", i=str(far))[0][0] == [
        "capture_time_far_from_feedback", "gps_far_from_incident"]
    listed = client.get(d.url("instructions", instruction["id"], "media"), headers=d.h(d.desk)).get_json()
    assert {m["id"] for m in listed} == {str(far), str(near)}
