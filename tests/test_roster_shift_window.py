"""The shifts of a window [from, to): at most 42 days, from before to, aware instants, shifts shown whole."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import assert_error
from tests.test_roster_support import create_pattern, district, local, rotation, shifts  # noqa: F401


def test_a_month_of_a_rotation_has_one_shift_per_day_shown_whole(client, district):
    create_pattern(client, district, rotation(district, district.crew))

    found = shifts(client, district, local("2026-03-01 12:00"), local("2026-04-01 12:00"))

    # 31 days from noon to noon touch 32 shifts; the first and last stick out of the window.
    assert len(found) == 32
    assert (found[0]["starts_at"], found[-1]["ends_at"]) == ("2026-03-01T08:00:00+08:00", "2026-04-02T08:00:00+08:00")
    assert [s["user"]["username"] for s in found[:5]] == ["crew1", "crew2", "crew3", "crew4", "crew1"]
    assert all(a["ends_at"] == b["starts_at"] for a, b in zip(found, found[1:]))


def test_without_from_and_to_the_next_seven_days_are_shown(client, district):
    create_pattern(client, district, rotation(district, district.crew, starts_on="2026-01-01"))
    before = datetime.now(UTC)

    body = client.get(district.roster("shifts"), headers=district.headers["admin"]).get_json()

    start, end = datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])
    assert before - timedelta(milliseconds=1) <= start <= datetime.now(UTC) and end - start == timedelta(days=7)
    assert len(body["shifts"]) in (7, 8)


@pytest.mark.parametrize("query, code, field", [
    ({"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-12T00:00:01+08:00"}, "window_too_long", "to"),
    ({"from": "2026-03-02T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00"}, "window_empty", "to"),
    ({"from": "2026-03-01T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00"}, "window_empty", "to"),
    ({"from": "2026-03-01T00:00:00"}, "validation_error", "from"),            # naive: which zone?
    ({"from": "not a date"}, "validation_error", "from"),
    ({"from": "9999-12-31T23:00:00-12:00"}, "validation_error", "from"),
])
def test_bad_windows_are_refused(client, district, query, code, field):
    response = client.get(district.roster("shifts"), query_string=query, headers=district.headers["admin"])
    assert field in assert_error(response, 422, code)["errors"]


def test_exactly_42_days_is_allowed(client, district):
    assert shifts(client, district, local("2026-03-01 00:00"), local("2026-04-12 00:00")) == []
