"""Shared set-up for the intake tests (test_incident_*.py); this module holds no tests.

A district (凉州区, Asia/Shanghai, the Liangzhou template) with a desk dispatcher, the office,
a leader and a responder, and a call body to post.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import TenantRef, UserRef, auth

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Desk:
    tenant: TenantRef
    dispatcher: UserRef
    admin: UserRef
    leader: UserRef
    responder: UserRef
    headers: dict[str, dict] = field(default_factory=dict)

    def url(self, *parts) -> str:
        return "/".join([f"/api/v1/t/{self.tenant.code}/incidents", *(str(part) for part in parts)])


@pytest.fixture
def desk(factory, client) -> Desk:
    tenant = factory.tenant()
    result = Desk(tenant=tenant, dispatcher=factory.user(tenant, "dispatcher", username="desk"),
                  admin=factory.user(tenant, "tenant_admin", username="office"),
                  leader=factory.user(tenant, "leader", username="leader"),
                  responder=factory.user(tenant, "responder", username="crew"))
    for name in ("dispatcher", "admin", "leader", "responder"):
        result.headers[name] = auth(client, getattr(result, name))
    return result


def call(**changes) -> dict:
    """A gas leak call as the desk records it."""
    return {"source": "phone_110", "caller_name": "张三", "caller_phone": "13812345678",
            "address": "凉州区南关西路幸福小区3号楼", "area_type": "urban", "latitude": 37.928, "longitude": 102.641,
            "location_accuracy_m": 30, "description": "楼道里燃气味很重，怀疑燃气泄漏", **changes}


def record(client, desk: Desk, query: str = "", **changes) -> dict:
    response = client.post(desk.url() + query, json=call(**changes), headers=desk.headers["dispatcher"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def category_id(app, tenant: TenantRef, name: str) -> int:
    """A level-2 category of the template, by name."""
    from app.blueprints.catalogue.models import Category
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        return db.session.execute(select(Category.id).where(Category.name == name,
                                                            Category.parent_id.is_not(None))).scalar_one()


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def make_incident(app, tenant: TenantRef, dispatcher: UserRef, *, description: str = "楼道里燃气味很重",
                  address: str = "南关西路", **fields) -> int:
    """An open incident through the intake service (no HTTP); returns its id. For other test modules,
    e.g. the isolation matrix and the bad-input sweep (put a marker of the tenant in `description`)."""
    from app.blueprints.incidents import service
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope([tenant.id]):
        incident = service.intake(tenant=db.session.get(Tenant, tenant.id), actor=db.session.get(User, dispatcher.id),
                                  source=fields.pop("source", "phone_110"), description=description, address=address,
                                  caller_name=fields.pop("caller_name", "张三"),
                                  caller_phone=fields.pop("caller_phone", "13812345678"), **fields)["incident"]
        return incident.id
