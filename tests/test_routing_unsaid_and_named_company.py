"""What a caller says is not, and whose line it is: a negated or unreachable phrase is no evidence,
and a named telecom company's own category comes before another company's.

The texts are our own wording, not taken from any accuracy set.
"""
from __future__ import annotations

from app.blueprints.routing.engine import CategoryDoc, Index, explain

POLICE = {"id": 1, "name": "区公安局", "short_name": "公安"}
GAS = {"id": 2, "name": "区天然气公司", "short_name": "天然气"}
HEALTH = {"id": 3, "name": "区卫计局", "short_name": "卫计"}
TELECOM = {"id": 4, "name": "区电信分公司", "short_name": "电信"}
MOBILE = {"id": 5, "name": "区移动分公司", "short_name": "移动"}
UNICOM = {"id": 6, "name": "区联通分公司", "short_name": "联通"}


def _index() -> Index:
    return Index([
        CategoryDoc(id=1, code="2204", name="火灾", route="police", severity="major",
                    keywords=["着火", "起火", "火灾"], lead_unit=POLICE),
        CategoryDoc(id=2, code="0103", name="燃气停气与设施故障", route="direct", severity="general",
                    keywords=["停气", "没有气了", "打不着火", "燃气停了"], lead_unit=GAS),
        CategoryDoc(id=3, code="1001", name="急危重伤病急救", route="direct", severity="urgent",
                    keywords=["急救", "救护车", "打120", "120急救"], lead_unit=HEALTH),
        CategoryDoc(id=4, code="0401", name="通信杆线倾倒与缆线垂落", route="police_first", severity="urgent",
                    keywords=["电话线杆倒了", "通信杆倒了", "光缆掉下来", "通信线拦路"], lead_unit=TELECOM),
        CategoryDoc(id=5, code="0403", name="移动线路与设备故障", route="direct", severity="general",
                    keywords=["中国移动", "移动信号中断", "移动线路故障"], lead_unit=MOBILE),
        CategoryDoc(id=6, code="0404", name="联通线路与设备故障", route="direct", severity="general",
                    keywords=["中国联通", "联通信号中断", "联通线路故障"], lead_unit=UNICOM),
    ])


def test_a_stove_that_will_not_light_is_no_fire():
    result = _index().suggest("整个楼做饭都点不着火了")
    assert result.results[0].doc.name == "燃气停气与设施故障"
    assert all(s.doc.name != "火灾" for s in result.results)


def test_a_number_that_cannot_be_reached_is_about_the_phone_not_an_ambulance():
    result = _index().suggest("村里移动信号全没了，打120都打不出去")
    assert result.results[0].doc.name == "移动线路与设备故障"
    # If the ambulance category is listed at all, it is not for the words 打120.
    assert not any(line["term"] == "打120" for s in result.results for line in explain(s.matches))
    # Asking for an ambulance still finds it.
    assert _index().suggest("我爸晕倒了，快打120").results[0].doc.name == "急危重伤病急救"


def test_the_named_company_comes_first_and_the_explanation_says_why():
    result = _index().suggest("大风把联通的电话线杆刮倒了，光缆掉下来拦在路上")
    top, others = result.results[0], result.results[1:]
    assert top.doc.lead_unit["short_name"] == "联通"
    assert any(line["source"] == "named_company" and line["term"] == "联通" for line in explain(top.matches))
    telecom = next(s for s in others if s.doc.lead_unit["short_name"] == "电信")
    lines = explain(telecom.matches)
    assert any(line["source"] == "other_company" and line["weight"] < 0 for line in lines)


def test_without_a_company_named_the_pole_category_leads():
    result = _index().suggest("电话线杆被风刮倒了，光缆掉下来拦在路上")
    assert result.results[0].doc.name == "通信杆线倾倒与缆线垂落"
    assert not any(line["kind"] == "priority" for s in result.results for line in explain(s.matches))


def test_two_companies_named_change_nothing():
    result = _index().suggest("联通的光缆掉下来，把电信的线也扯断了")
    assert not any(line["source"] in ("named_company", "other_company")
                   for s in result.results for line in explain(s.matches))


# -- through the API, on the Liangzhou template as provisioned

def test_the_desk_sees_the_named_company_and_no_fire_for_a_cold_stove(client, factory):
    from app.blueprints.routing import service
    from tests.test_routing_suggest_api import ask

    service.clear_cache()
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")

    body = ask(client, desk, "大风把联通的杆子刮倒了，横在巷子口").get_json()
    top = body["suggestions"][0]
    assert top["lead_unit"]["short_name"] == "联通"
    assert {"term": "联通", "source": "named_company", "kind": "priority"}.items() <= next(
        m for m in top["matched"] if m["source"] == "named_company").items()

    body = ask(client, desk, "整个小区做饭都点不着火了，灶上一点气都么有").get_json()
    assert body["suggestions"][0]["lead_unit"]["short_name"] == "天然气"
    assert all(s["category"]["name"] != "火灾" for s in body["suggestions"])
    assert {"written": "么", "read_as": "没"} in body["corrections"]
