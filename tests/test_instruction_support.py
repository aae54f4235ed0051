"""Shared set-up for the instruction tests (test_instruction_*.py); this module holds no tests.

A district (凉州区) with a desk, the 建设 and 天然气 units with their people, the police, and
incidents written straight into the table (intake is another slice), and URL helpers.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func

from tests.factories import TenantRef, UserRef, auth

_numbers = itertools.count(1)


@dataclass
class District:
    tenant: TenantRef
    desk: UserRef
    office: UserRef
    unit_id: int                # 建设
    gas_unit_id: int            # 天然气
    police_unit_id: int         # 公安
    liaison: UserRef            # 建设
    unit_leader: UserRef        # 建设
    responder: UserRef          # 建设
    gas_liaison: UserRef        # 天然气
    police_liaison: UserRef     # 公安
    city_leader: UserRef        # leadership group
    headers: dict[str, dict] = field(default_factory=dict)

    def url(self, *parts) -> str:
        return "/".join([f"/api/v1/t/{self.tenant.code}", *(str(p) for p in parts)])

    def issue_url(self, incident_id: int) -> str:
        return self.url("incidents", incident_id, "instructions")

    def action_url(self, instruction_id: int, action: str) -> str:
        return self.url("instructions", instruction_id, action)

    def h(self, user: UserRef, **extra) -> dict:
        return {**self.headers[user.username], **extra}


@pytest.fixture
def district(factory, client) -> District:
    tenant = factory.tenant()
    unit_id = factory.unit_id(tenant, "建设")
    gas_unit_id = factory.unit_id(tenant, "天然气")
    police_unit_id = factory.unit_id(tenant, "公安")
    d = District(
        tenant=tenant, desk=factory.user(tenant, "dispatcher"), office=factory.user(tenant, "tenant_admin"),
        unit_id=unit_id, gas_unit_id=gas_unit_id, police_unit_id=police_unit_id,
        liaison=factory.user(tenant, "unit_liaison", unit_id=unit_id),
        unit_leader=factory.user(tenant, "unit_leader", unit_id=unit_id),
        responder=factory.user(tenant, "responder", unit_id=unit_id),
        gas_liaison=factory.user(tenant, "unit_liaison", unit_id=gas_unit_id),
        police_liaison=factory.user(tenant, "unit_liaison", unit_id=police_unit_id),
        city_leader=factory.user(tenant, "leader"),
    )
    for user in (d.desk, d.office, d.liaison, d.unit_leader, d.responder, d.gas_liaison, d.police_liaison,
                 d.city_leader):
        d.headers[user.username] = auth(client, user)
    return d


def make_incident(app, tenant: TenantRef, *, route: str = "direct", severity: str = "general",
                  category_id: int | None = None, description: str = "燃气泄漏") -> int:
    """An open incident, written straight to the table as the intake would."""
    from app.blueprints.incidents.models import Incident
    from app.common.models import utcnow
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        incident = Incident(tenant_id=tenant.id, number=f"{tenant.code}-20261129-{next(_numbers)}",
                            source="phone_110", received_at=utcnow(), address="凉州区东大街1号", area_type="urban",
                            description=description, category_id=category_id, severity=severity, route=route,
                            state="open", search_vector=func.to_tsvector("simple", description))
        db.session.add(incident)
        db.session.commit()
        return incident.id


def act(client, d: District, instruction_id: int, action: str, user, status: int = 200, **body) -> dict:
    """POST one instruction action (acknowledge, arrive, review...) as `user`; asserts the status, returns the body."""
    response = client.post(d.action_url(instruction_id, action), json=body, headers=d.h(user))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def issue_one(client, d: District, incident_id: int, unit_id: int | None = None, **extra) -> dict:
    """Issue one lead instruction (to 建设 by default) and return it."""
    response = client.post(d.issue_url(incident_id), headers=d.h(d.desk),
                           json={"instructions": [{"unit_id": unit_id or d.unit_id, "note": "速去"}], **extra})
    assert response.status_code == 201, response.get_json()
    return next(i for i in response.get_json() if i["unit_id"] == (unit_id or d.unit_id))


def make_instruction(app, tenant: TenantRef, *, desk_user_id: int, liaison_user_id: int,
                     responder_user_id: int | None = None) -> tuple[int, int]:
    """An incident with one instruction to the liaison's unit, acknowledged by the liaison and naming
    the responder (so every unit role of that unit may read it): (incident id, instruction id).
    For the isolation matrix and the bad-input sweep: the id recipes of <incident_id> and <instruction_id>.
    """
    from app.blueprints.instructions import service
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope

    incident_id = make_incident(app, tenant, description="联动指令样本")
    with app.app_context(), tenant_scope([tenant.id]):
        desk, liaison = db.session.get(User, desk_user_id), db.session.get(User, liaison_user_id)
        instruction = service.issue(incident_id=incident_id, actor=desk,
                                    instructions=[{"unit_id": liaison.unit_id, "role": "lead", "note": "样本"}])[0]
        service.acknowledge(instruction_id=instruction.id, actor=liaison,
                            responder_ids=[responder_user_id] if responder_user_id else [])
        return incident_id, instruction.id
