"""Shared set-up for the duty roster tests (test_roster_*.py); this module holds no tests.

A district (凉州区, Asia/Shanghai) with people of two emergency units, 建设 and 供电,
and the URLs of their rosters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TenantRef, UserRef, auth

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class District:
    tenant: TenantRef
    admin: UserRef
    unit_id: int                      # 建设 (emergency)
    other_unit_id: int                # 供电 (emergency)
    crew: list[UserRef]               # four responders of 建设
    liaison: UserRef                  # of 建设
    leader: UserRef                   # of 建设
    other_liaison: UserRef            # of 供电
    headers: dict[str, dict] = field(default_factory=dict)

    def roster(self, *parts, unit_id: int | None = None) -> str:
        base = f"/api/v1/t/{self.tenant.code}/units/{unit_id or self.unit_id}/roster"
        return "/".join([base, *(str(part) for part in parts)])

    @property
    def gaps_url(self) -> str:
        return f"/api/v1/t/{self.tenant.code}/roster/gaps"


@pytest.fixture
def district(factory, client) -> District:
    tenant = factory.tenant()
    unit_id, other_unit_id = factory.unit_id(tenant, "建设"), factory.unit_id(tenant, "供电")
    result = District(
        tenant=tenant,
        admin=factory.user(tenant, "tenant_admin", username="office"),
        unit_id=unit_id, other_unit_id=other_unit_id,
        crew=[factory.user(tenant, "responder", username=f"crew{n}", unit_id=unit_id) for n in range(1, 5)],
        liaison=factory.user(tenant, "unit_liaison", username="jianshe.liaison", unit_id=unit_id),
        leader=factory.user(tenant, "unit_leader", username="jianshe.leader", unit_id=unit_id),
        other_liaison=factory.user(tenant, "unit_liaison", username="gongdian.liaison", unit_id=other_unit_id),
    )
    result.headers["admin"] = auth(client, result.admin)
    return result


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """'2026-03-01 08:00' on the given zone's wall clock, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def rotation(district: District, users: list[UserRef], *, name: str = "24小时轮班", starts_on: str = "2026-03-01",
             start_time: str = "08:00", shift_hours: int = 24, every_hours: int | None = None,
             ends_on: str | None = None) -> dict:
    return {"name": name, "starts_on": starts_on, "start_time": start_time, "shift_hours": shift_hours,
            "every_hours": every_hours, "ends_on": ends_on, "user_ids": [user.id for user in users]}


def create_pattern(client, district: District, body: dict, headers: dict | None = None,
                   unit_id: int | None = None) -> dict:
    response = client.post(district.roster("patterns", unit_id=unit_id), json=body,
                           headers=headers or district.headers["admin"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def create_override(client, district: District, body: dict, headers: dict | None = None) -> dict:
    response = client.post(district.roster("overrides"), json=body, headers=headers or district.headers["admin"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def on_duty(client, district: District, at: datetime, headers: dict | None = None,
            unit_id: int | None = None) -> list[str]:
    """Usernames on duty at `at`."""
    response = client.get(district.roster("on-duty", unit_id=unit_id), query_string={"at": at.isoformat()},
                          headers=headers or district.headers["admin"])
    assert response.status_code == 200, response.get_json()
    return [shift["user"]["username"] for shift in response.get_json()["on_duty"]]


def shifts(client, district: District, start: datetime, end: datetime, unit_id: int | None = None) -> list[dict]:
    response = client.get(district.roster("shifts", unit_id=unit_id),
                          query_string={"from": start.isoformat(), "to": end.isoformat()},
                          headers=district.headers["admin"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["shifts"]
