"""POST /time-limits/preview: the deadlines an instruction would get under the tenant's live policy."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import assert_error, auth

ISSUED_AT = "2026-02-13T02:00:00+00:00"  # 10:00 on Friday 13 Feb 2026 in Shanghai, before the festival


@pytest.fixture
def district(client, factory):
    tenant = factory.tenant()
    return tenant, auth(client, factory.user(tenant, "tenant_admin")), auth(client, factory.user(tenant, "dispatcher"))


def preview(client, tenant, headers, **body):
    body = {"duty_class": "standard", "severity": "urgent", "area": "urban", "issued_at": ISSUED_AT, **body}
    return client.post(f"/api/v1/t/{tenant.code}/time-limits/preview", headers=headers, json=body)


def category(sql, tenant_id, *, time_limits: dict, needs_site_visit: bool = True) -> int:
    (category_id,), = sql(
        "INSERT INTO categories (tenant_id, code, name, description, keywords, route, severity, needs_site_visit, "
        "time_limits, sort_order, is_active) VALUES (:t, 'T1', '测试类别', '', '{}', 'direct', 'general', :visit, "
        "CAST(:limits AS jsonb), 0, true) RETURNING id",
        t=tenant_id, visit=needs_site_visit, limits=json.dumps(time_limits))
    return category_id


def test_the_desk_previews_deadlines_across_the_spring_festival(client, district):
    tenant, _, desk = district
    response = preview(client, tenant, desk)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["time_zone"] == "Asia/Shanghai" and body["needs_site_visit"] is True
    assert body["acknowledge_by"] == "2026-02-13T02:15:00+00:00"
    assert body["arrive_by"] == "2026-02-13T02:45:00+00:00"
    assert body["resolve_by"] == "2026-02-25T16:00:00+00:00"   # 24:00 on Wed 25 Feb, Shanghai
    assert body["calendar_fallback"] is False
    assert body["limits"] == {"ack_minutes": 15, "arrive_minutes": {"urban": 45, "suburban": 60, "rural": 90},
                              "resolve_hours": None, "resolve_working_days": 3}
    fired = [(item["clock"], item["step"]) for item in body["escalations"]]
    assert fired[0] == ("acknowledge", "warning") and ("resolve", "red") in fired
    assert ("acknowledge", "leadership") not in fired  # not a major incident


def test_the_preview_follows_the_tenant_time_zone(client, district):
    tenant, office, desk = district
    assert client.patch(f"/api/v1/t/{tenant.code}", headers=office,
                        json={"time_zone": "Asia/Urumqi"}).status_code == 200
    # 17:00 UTC on Sat 25 Jan 2025 is still Saturday in Urumqi: 26 Jan (make-up), 27 Jan, 5 Feb.
    body = preview(client, tenant, desk, issued_at="2025-01-25T17:00:00Z").get_json()
    assert body["time_zone"] == "Asia/Urumqi"
    assert body["resolve_by"] == "2025-02-05T18:00:00+00:00"


def test_a_category_overrides_the_limits_and_says_whether_a_visit_is_needed(client, sql, district):
    tenant, _, desk = district
    category_id = category(sql, tenant.id, time_limits={"resolve_hours": 12, "ack_minutes": 5},
                           needs_site_visit=False)
    body = preview(client, tenant, desk, category_id=category_id).get_json()
    assert body["category_id"] == category_id and body["needs_site_visit"] is False
    assert body["arrive_by"] is None
    assert body["acknowledge_by"] == "2026-02-13T02:05:00+00:00"
    assert body["resolve_by"] == "2026-02-13T14:00:00+00:00"
    assert "arrive" not in {item["clock"] for item in body["escalations"]}
    # The desk has the last word on the visit.
    assert preview(client, tenant, desk, category_id=category_id, needs_site_visit=True).get_json()["arrive_by"]


def test_the_preview_uses_the_policy_as_just_changed(client, district):
    tenant, office, desk = district
    policy = client.get(f"/api/v1/t/{tenant.code}/time-limits", headers=office).get_json()
    cell = next(c["id"] for c in policy["defaults"] if (c["duty_class"], c["severity"]) == ("standard", "urgent"))
    client.patch(f"/api/v1/t/{tenant.code}/time-limits/defaults/{cell}", headers=office,
                 json={"resolve_hours": 6})
    assert preview(client, tenant, desk).get_json()["resolve_by"] == "2026-02-13T08:00:00+00:00"


def test_without_an_issue_time_the_preview_starts_now(client, district):
    tenant, _, desk = district
    before = datetime.now(UTC)
    body = client.post(f"/api/v1/t/{tenant.code}/time-limits/preview", headers=desk,
                       json={"duty_class": "emergency", "severity": "major", "area": "rural"}).get_json()
    issued_at = datetime.fromisoformat(body["issued_at"])
    assert before <= issued_at <= datetime.now(UTC)
    assert datetime.fromisoformat(body["resolve_by"]) == issued_at + timedelta(hours=4)
    assert "leadership" in {item["step"] for item in body["escalations"]}


def test_an_unknown_or_foreign_category_is_refused(client, factory, sql, district):
    tenant, _, desk = district
    other = factory.tenant("110105", "朝阳区")
    foreign = category(sql, other.id, time_limits={})
    for category_id in (foreign, 987654321):
        body = assert_error(preview(client, tenant, desk, category_id=category_id), 422, "category_not_found")
        assert "category_id" in body["errors"]


def test_stored_overrides_that_cannot_apply_are_a_conflict_not_a_crash(client, sql, district):
    tenant, _, desk = district
    category_id = category(sql, tenant.id, time_limits={"resolve_hours": 4, "resolve_working_days": 1})
    assert_error(preview(client, tenant, desk, category_id=category_id), 409, "category_time_limits_invalid")


def test_a_naive_issue_time_or_an_unknown_area_is_refused(client, district):
    tenant, _, desk = district
    assert "issued_at" in assert_error(preview(client, tenant, desk, issued_at="2026-02-13T10:00:00"), 422)["errors"]
    assert "area" in assert_error(preview(client, tenant, desk, area="downtown"), 422)["errors"]


def test_a_preview_changes_nothing(client, sql, district):
    tenant, _, desk = district
    audit_count = sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t", t=tenant.id)
    assert preview(client, tenant, desk).status_code == 200
    assert sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t", t=tenant.id) == audit_count
