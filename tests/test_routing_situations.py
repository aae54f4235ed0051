"""Calls that name no department: situations, homophones, and a life at risk.

The texts here are our own wording of everyday calls, not taken from any accuracy set.
"""
from __future__ import annotations

import pytest

from app.blueprints.routing import analysis, lexicon
from app.blueprints.routing.engine import CategoryDoc, Index, explain
from app.blueprints.routing.homophones import Homophones
from bench.routing.fixture_catalogue import docs
from tests.test_routing_suggest_api import ask, district  # noqa: F401  (the fixture)


def _expanded(text: str) -> set[str]:
    return set(analysis.analyze(text).expansions)


@pytest.mark.parametrize("text, concept", [
    # police: violence, theft, a family member gone, a crash, a fire
    ("他喝多了回家就掐我脖子，我跑到邻居家躲着", "家暴"),
    ("有个人举着砍刀在街上追人", "治安案件"),
    ("停在路边的车让人把玻璃撬了，后座上的电脑没了", "盗窃"),
    ("家里进贼了，抽屉翻得乱七八糟", "盗窃"),
    ("我闺女放学一直没回家，同学家都问遍了", "失联"),
    ("一辆三轮车和小轿车撞上了，骑车的老汉躺着不动", "交通事故"),
    ("楼下的小卖部烧着了，烟从窗户往外冒", "火灾"),
    ("站前有几个人硬拉旅客上他们的车", "治安案件"),
    # utilities by their symptoms
    ("小区里地面往外冒水，都流成河了", "路面冒水"),
    ("早上接的水是浑的，烧开以后壶底一层泥", "自来水浑浊"),
    ("家里暖气片冰凉冰凉的", "其他部门职责"),
    ("我们楼那个载人的铁箱子门没关好就往下走", "电梯"),
    ("楼道墙上那个铁皮箱子滋滋响还冒烟", "电线打火"),
    ("风一吹树枝就打在电线上冒火星子", "电线打火"),
    # work, shops, the street
    ("干了半年厂里说不要我就不要了，合同也没签", "劳资纠纷"),
    ("进厂的时候交了五百押金，走的时候不退", "劳资纠纷"),
    ("理发店充了两千块，现在门关了人也找不到", "预付卡"),
    ("装修队干了一半就不来了，用的都是次品", "消费纠纷"),
    ("平时五十块的房间今天要三百", "价格违法"),
    ("对门把院墙往外扩，占了公共过道", "违建"),
    ("广场上的秋千链子断了", "市政设施"),
    ("路中间塌了个大坑，下面是空的", "路面塌陷"),
    ("我家的鸭子这几天一批一批地死", "动物疫病"),
])
def test_a_situation_without_a_department_word_calls_up_the_rules_term(text, concept):
    assert concept in _expanded(text)


@pytest.mark.parametrize("text, not_concept", [
    ("我跟邻居为了停车位吵起来了", "噪声"),           # a quarrel is not noise
    ("货车司机把我的车刮了", "出租车"),               # a driver is not a taxi
    ("早上上学车都过不去", "出租车"),                 # 学车 inside 上学车 is not a driving school
    ("在健身房办的卡，押金不退", "劳资纠纷"),          # a shop's deposit is not a worker's
])
def test_over_broad_rules_do_not_fire(text, not_concept):
    assert not_concept not in _expanded(text)


def test_an_unreachable_phone_is_not_evidence_of_a_line_fault():
    terms = analysis.analyze("孩子的电话一直打不通").terms
    assert "打不通" not in terms and "打不" not in terms and "不通" not in terms


def test_a_grammar_fragment_is_not_a_term_but_a_word_is():
    terms = analysis.analyze("问她家在哪说不上来").terms
    assert "说不" not in terms
    assert "门口" in analysis.analyze("学校门口有人闹事").terms


@pytest.mark.parametrize("written, read_as", [
    ("路口那些滩贩", ("滩贩", "摊贩")),
    ("老板托欠了三个月", ("托欠", "拖欠")),
    ("井该没了", ("井该", "井盖")),
    ("程管收了他的车", ("程管", "城管")),
])
def test_a_homophone_is_read_as_the_word_it_sounds_like(written, read_as):
    homophones = Homophones(["燃气泄漏", "电梯困人"], short=lexicon.VOCABULARY)
    text, fixes = homophones.correct(written)
    assert fixes == [read_as] and read_as[1] in text


@pytest.mark.parametrize("text", ["突然气温下降", "拉了一车货", "这人很世故", "他也是老师"])
def test_ordinary_words_are_not_read_as_homophones(text):
    homophones = Homophones(["燃气泄漏", "车祸现场", "事故"], short=lexicon.VOCABULARY)
    assert homophones.correct(text) == (text, [])


def test_a_homophone_finds_the_category_and_the_explanation_names_the_callers_spelling():
    index = Index(docs())
    result = index.suggest("菜市场门口那些滩贩把路全占了")
    top = result.results[0]
    assert top.doc.name == "占道经营"
    assert ("滩贩", "摊贩") in result.analysis.fixes
    assert any(line["via"] for line in explain(top.matches))


def _fire_catalogue() -> Index:
    police = {"id": 1, "name": "区公安局", "short_name": "公安"}
    environment = {"id": 2, "name": "区环保局", "short_name": "环保"}
    return Index([
        CategoryDoc(id=1, code="2204", name="火灾", route="police", severity="major",
                    keywords=["着火", "起火", "火灾"], lead_unit=police),
        CategoryDoc(id=2, code="1403", name="大气污染与异味", route="direct", severity="general",
                    keywords=["冒黑烟", "烟囱冒黑烟", "恶臭"], lead_unit=environment),
    ])


def test_a_life_at_risk_puts_the_police_first_and_says_why():
    index = _fire_catalogue()
    calm = index.suggest("后院那边冒黑烟冒黑烟，好像起火了")
    assert calm.results[0].doc.name == "大气污染与异味"
    urgent = index.suggest("后院那边冒黑烟冒黑烟，好像起火了，屋里还有人没出来")
    assert urgent.results[0].doc.name == "火灾"
    lines = explain(urgent.results[0].matches)
    # The reason shown is the caller's own words.
    assert any(line["kind"] == "priority" and line["source"] == "urgent" and line["term"].endswith("人没出来")
               and line["term"] in "后院那边冒黑烟冒黑烟，好像起火了，屋里还有人没出来" for line in lines)
    # The unit's own category keeps no priority: the signal is only for what the police attend.
    assert not any(line["kind"] == "priority" for line in explain(urgent.results[1].matches))


def test_a_life_threat_alone_does_not_invent_police_evidence():
    index = _fire_catalogue()
    result = index.suggest("烟囱冒黑烟，有人流血了")
    assert result.results[0].doc.name == "大气污染与异味"
    assert all(s.doc.name != "火灾" for s in result.results)


def test_the_api_shows_the_homophone_it_read(client, factory, district):  # noqa: F811
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    body = ask(client, desk, "菜市场门口那些滩贩把路全占了").get_json()
    assert body["suggestions"][0]["category"]["name"] == "占道经营"
    assert {"written": "滩贩", "read_as": "摊贩"} in body["corrections"]
