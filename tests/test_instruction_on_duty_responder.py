"""A responder on duty for the unit (per the duty roster) may acknowledge or return an instruction
that names nobody yet; off duty they may not, and on duty they still may not resolve it."""
from __future__ import annotations

from datetime import timedelta

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def _put_on_duty(app, d):
    from app.blueprints.rosters import service
    from app.common.models import utcnow
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope([d.tenant.id]):
        now = utcnow()
        service.create_override(tenant=db.session.get(Tenant, d.tenant.id), actor=None, unit_id=d.unit_id,
                                kind="extra", user_id=d.responder.id, starts_at=now - timedelta(hours=1),
                                ends_at=now + timedelta(hours=1))


def test_an_on_duty_responder_acknowledges_an_unnamed_instruction(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.responder), json={}),
                 403, "not_assigned_to_you")
    _put_on_duty(app, d)
    ack = client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.responder),
                      json={"responder_ids": [d.responder.id]})
    assert ack.status_code == 200, ack.get_json()
    assert ack.get_json()["acknowledged_by_user_id"] == d.responder.id


def test_on_duty_is_not_enough_to_move_an_instruction_naming_others(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={"responder_ids": [d.liaison.id]})
    _put_on_duty(app, d)
    assert_error(client.post(d.action_url(iid, "set-out"), headers=d.h(d.responder), json={}),
                 403, "not_assigned_to_you")
