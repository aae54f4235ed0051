"""With ?suggest=true, intake answers routing suggestions and possible duplicates (并单 candidates)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.test_incident_support import desk, record  # noqa: F401


def _hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def test_suggest_returns_routing_suggestions_for_the_description(app, client, desk):
    body = record(client, desk, "?suggest=true", description="小区楼道里燃气味很重，可能燃气泄漏了")

    names = [s["category"]["name"] for s in body["suggestions"]["suggestions"]]
    assert "燃气泄漏" in names[:3], names
    assert body["duplicates"] == []


def test_a_call_nearby_is_a_possible_duplicate_even_in_other_words(client, desk):
    first = record(client, desk, description="路边有个井盖丢了", address="北关中路", latitude=37.9300,
                   longitude=102.6400)["incident"]
    # About 110 m north.
    body = record(client, desk, "?suggest=true", description="有车陷进坑里", address="北关中路东口",
                  latitude=37.9310, longitude=102.6400)

    [duplicate] = body["duplicates"]
    assert duplicate["incident"]["id"] == first["id"]
    assert "near" in duplicate["reasons"] and 90 <= duplicate["distance_m"] <= 130


def test_a_call_far_away_with_other_words_is_not(client, desk):
    record(client, desk, description="路边有个井盖丢了", address="北关中路", latitude=37.93, longitude=102.64)

    body = record(client, desk, "?suggest=true", description="邻居家狗一直叫", address="西关街",
                  latitude=37.95, longitude=102.60)

    assert body["duplicates"] == []


def test_similar_words_without_coordinates_are_a_possible_duplicate(client, desk):
    first = record(client, desk, description="幸福小区3号楼燃气泄漏，味道很大", address="南关西路幸福小区",
                   latitude=None, longitude=None)["incident"]

    body = record(client, desk, "?suggest=true", description="幸福小区燃气泄漏了，味道大", address="南关西路幸福小区",
                  latitude=None, longitude=None)

    [duplicate] = body["duplicates"]
    assert duplicate["incident"]["id"] == first["id"]
    assert duplicate["reasons"] == ["similar_text"] and duplicate["distance_m"] is None


def test_duplicates_are_ranked_near_and_alike_first(client, desk):
    alike_far = record(client, desk, description="幸福小区燃气泄漏味道很大", address="南关西路",
                       latitude=37.90, longitude=102.60)["incident"]
    near_other = record(client, desk, description="有人吵架", address="南关西路",
                        latitude=37.9281, longitude=102.641)["incident"]
    near_alike = record(client, desk, description="幸福小区燃气泄漏味道很大", address="南关西路",
                        latitude=37.9282, longitude=102.641)["incident"]

    body = record(client, desk, "?suggest=true", description="幸福小区燃气泄漏味道很大", address="南关西路",
                  latitude=37.928, longitude=102.641)

    assert [d["incident"]["id"] for d in body["duplicates"]] == [near_alike["id"], alike_far["id"], near_other["id"]]


def test_old_and_closed_incidents_are_not_candidates(client, desk, sql):
    old = record(client, desk, received_at=_hours_ago(7))["incident"]
    closed = record(client, desk)["incident"]
    sql("UPDATE incidents SET state = 'closed' WHERE id = :id", id=closed["id"])
    recent = record(client, desk, received_at=_hours_ago(5))["incident"]

    body = record(client, desk, "?suggest=true")

    assert [d["incident"]["id"] for d in body["duplicates"]] == [recent["id"]]
    assert old["id"] != recent["id"]


def test_the_window_is_a_district_setting(client, desk, sql):
    sql("UPDATE tenants SET settings = settings || '{\"duplicate_window_hours\": 1}' WHERE id = :t", t=desk.tenant.id)
    record(client, desk, received_at=_hours_ago(2))

    assert record(client, desk, "?suggest=true")["duplicates"] == []
