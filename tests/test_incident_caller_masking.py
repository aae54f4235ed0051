"""Caller data is masked for everyone but the desk and the linkage office."""
from __future__ import annotations

import pytest

from tests.factories import assert_error, auth
from tests.test_incident_support import desk, record  # noqa: F401

REPEAT = {"source": "phone_110", "caller_name": "李四", "caller_phone": "13900001111", "description": "又一个电话"}


@pytest.fixture
def incident(client, desk):
    incident = record(client, desk)["incident"]
    client.post(desk.url(incident["id"], "merge-call"), json=REPEAT, headers=desk.headers["dispatcher"])
    return incident


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_the_desk_and_the_office_see_the_caller(client, desk, incident, role):
    detail = client.get(desk.url(incident["id"]), headers=desk.headers[role]).get_json()
    listed = client.get(desk.url(), headers=desk.headers[role]).get_json()[0]

    for shown in (detail, listed):
        assert (shown["caller_name"], shown["caller_phone"], shown["is_caller_masked"]) == (
            "张三", "13812345678", False)
    assert (detail["calls"][0]["caller_phone"], detail["calls"][0]["is_caller_masked"]) == ("13900001111", False)


def test_a_leader_sees_the_caller_masked(client, desk, incident):
    detail = client.get(desk.url(incident["id"]), headers=desk.headers["leader"]).get_json()
    listed = client.get(desk.url(), headers=desk.headers["leader"]).get_json()[0]

    for shown in (detail, listed):
        assert (shown["caller_name"], shown["caller_phone"], shown["is_caller_masked"]) == ("张*", "138****5678", True)
    assert (detail["calls"][0]["caller_name"], detail["calls"][0]["caller_phone"]) == ("李*", "139****1111")


def test_the_provincial_supervisor_sees_the_caller_masked(client, desk, factory, incident):
    supervisor = factory.user(None, "provincial_supervisor", username="supervisor.620000", province_code="620000")

    detail = client.get(desk.url(incident["id"]), headers=auth(client, supervisor)).get_json()

    assert (detail["caller_phone"], detail["is_caller_masked"]) == ("138****5678", True)


def test_unit_roles_do_not_read_incidents_here(client, desk, incident):
    assert_error(client.get(desk.url(incident["id"]), headers=desk.headers["responder"]), 403)
    assert_error(client.get(desk.url(), headers=desk.headers["responder"]), 403)


def test_mask_shapes():
    from app.blueprints.incidents.presentation import mask_name, mask_phone

    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86*******5678"
    assert mask_phone("09358221234") == "093****1234"
    assert mask_phone("110") == "*10"
    assert mask_phone(None) is None
    assert (mask_name("欧阳娜娜"), mask_name("王"), mask_name(None)) == ("欧***", "王*", None)
