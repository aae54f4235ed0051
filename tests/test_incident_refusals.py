"""Bad calls are refused with the uniform error body, and nothing is stored or numbered."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import assert_error
from tests.test_incident_support import call, desk  # noqa: F401

BAD_BODIES = {
    "no_description": call(description=None),
    "empty_description": call(description=""),
    "unknown_source": call(source="pigeon"),
    "unknown_area_type": call(area_type="lunar"),
    "unknown_severity": call(severity="apocalyptic"),
    "unknown_route": call(route="sideways"),
    "latitude_out_of_range": call(latitude=91.0),
    "latitude_without_longitude": {k: v for k, v in call().items() if k != "longitude"},
    "phone_with_letters": call(caller_phone="call me maybe"),
    "category_as_text": call(category_id="1"),
    "naive_time": call(received_at="2026-03-01T08:00:00"),
    "future_time": call(received_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()),
    "unknown_category": call(category_id=987_654),
    "unknown_field": call(colour="red"),
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_call_is_refused_and_changes_nothing(client, desk, sql, body):
    audit_before = sql("SELECT count(*) FROM audit_events")[0][0]

    response = client.post(desk.url(), json=body, headers=desk.headers["dispatcher"])

    error = assert_error(response, 422)
    assert error["errors"], error
    assert sql("SELECT count(*) FROM incidents")[0][0] == 0
    assert sql("SELECT count(*) FROM incident_counters")[0][0] == 0
    assert sql("SELECT count(*) FROM audit_events")[0][0] == audit_before


def test_a_level_one_category_is_not_a_classification(app, client, desk, sql):
    group = sql("SELECT id FROM categories WHERE parent_id IS NULL AND tenant_id = :t", t=desk.tenant.id)[0][0]

    response = client.post(desk.url(), json=call(category_id=group), headers=desk.headers["dispatcher"])

    assert_error(response, 422, "category_not_found")
    assert sql("SELECT count(*) FROM incidents")[0][0] == 0
