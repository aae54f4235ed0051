"""The suggester's ranking on our own fixture catalogue (bench/routing/fixture_catalogue.py), in memory."""
from __future__ import annotations

import pytest

from app.blueprints.routing import analysis, learning
from app.blueprints.routing.engine import Index, explain
from bench.routing.fixture_catalogue import docs


@pytest.fixture(scope="module")
def index():
    return Index(docs())


def names(suggestion) -> list[str]:
    return [scored.doc.name for scored in suggestion.results]


def test_a_keyword_ranks_its_category_first_and_says_why(index):
    result = index.suggest("我家厨房燃气泄漏了，味道很大")
    top = result.results[0]
    assert top.doc.name == "燃气泄漏" and result.fallback is None
    assert top.doc.lead_unit["short_name"] == "天然气"
    assert [u["short_name"] for u in top.doc.assisting_units] == ["建设", "公安"]
    lines = explain(top.matches)
    assert any(line["term"] == "燃气" and line["source"] == "keyword" and line["kind"] == "phrase" for line in lines)
    assert any(line["source"] == "name" for line in lines)


def test_a_homophone_misspelling_is_read_as_the_word_and_shown(index):
    result = index.suggest("我家然气好像漏了")
    assert names(result)[0] == "燃气泄漏"
    assert ("然气", "燃气") in result.analysis.fixes
    assert any(line["via"] == "然气" for line in explain(result.results[0].matches))
    # An ordinary word that merely contains the same characters is left alone.
    assert analysis.analyze("突然气温下降了").fixes == []


def test_a_keyword_with_the_callers_words_in_between_still_matches(index):
    result = index.suggest("电梯里困了人，门打不开")
    assert names(result)[0] == "电梯困人"
    assert any(line["term"] == "电梯困人" and line["kind"] in ("fuzzy", "concept")
               for line in explain(result.results[0].matches))


def test_several_problems_in_one_call_are_each_ranked(index):
    result = index.suggest("楼下有人打架，还有井盖被偷了", limit=2)
    assert set(names(result)) == {"打架斗殴", "井盖缺失"}
    problem_categories = {index.docs[p["category_id"]].name for p in result.problems}
    assert problem_categories == {"打架斗殴", "井盖缺失"}
    assert {p["text"] for p in result.problems} == {"楼下有人打架", "井盖被偷了"}


def test_a_minor_second_problem_is_not_crowded_out_of_the_short_list(index):
    # Much said about gas, a little about a lamp-post-like fault: both stay within the limit.
    text = "燃气泄漏了，天然气味道很大，煤气灶那里漏气，赶紧来人，另外楼下电梯困人"
    result = index.suggest(text, limit=2)
    assert set(names(result)) == {"燃气泄漏", "电梯困人"}


def test_a_call_without_any_keyword_falls_back_on_what_the_words_mean(index):
    result = index.suggest("我家老人出门三个小时没回来了")
    assert names(result)[0] == "走失人员"
    lines = explain(result.results[0].matches)
    assert any(line["kind"] == "concept" and line["via"] for line in lines)


def test_without_the_lexicon_description_words_still_find_a_category(index):
    # No keyword, no name: only the description mentions 救护车.
    result = index.suggest("快派一辆救护车过来", use_lexicon=False)
    assert names(result)[0] == "急危重病人"
    assert result.fallback == "description"
    assert {line["source"] for line in explain(result.results[0].matches)} == {"description"}


def test_words_that_match_nothing_suggest_nothing_and_say_so(index):
    result = index.suggest("今天天气不错")
    assert result.results == [] and result.fallback == "none"


def test_learned_weights_outrank_the_catalogue_for_what_the_desk_taught(index):
    street = next(doc.id for doc in index.docs.values() if doc.name == "占道经营")
    examples = [("小区门口共享单车堆成山，人都过不去", street), ("共享单车乱停把盲道占了", street),
                ("一堆共享单车倒在人行道上", street)]
    text = "共享单车把路口全堵了"
    before = Index(docs()).suggest(text)
    assert "占道经营" not in names(before)[:1]
    taught = Index(docs(), learned=learning.train(examples)).suggest(text)
    assert names(taught)[0] == "占道经营"
    assert any(line["source"] == "learned" for line in explain(taught.results[0].matches))


def test_learned_weights_of_categories_gone_from_the_catalogue_are_ignored():
    weights = learning.train([("共享单车堆成山", 999)])
    result = Index(docs(), learned=weights).suggest("共享单车堆成山")
    assert all(scored.doc.id != 999 for scored in result.results)


def test_with_nothing_matched_the_desks_usual_choices_are_offered_as_a_prior():
    weights = learning.train([("甲乙丙", 3), ("丁戊己", 3), ("庚辛壬", 4)])
    result = Index(docs(), learned=weights).suggest("今天天气不错")
    assert result.fallback == "prior"
    assert [s.doc.id for s in result.results] == [3, 4]


def test_training_is_deterministic_and_its_digest_tracks_the_examples():
    examples = [(1, "共享单车堆成山", 11), (2, "井盖没了", 12)]
    assert learning.train([(t, c) for _, t, c in examples]) == learning.train([(t, c) for _, t, c in examples])
    assert learning.digest(examples) == learning.digest(list(reversed(examples)))
    assert learning.digest(examples) != learning.digest([(1, "共享单车堆成山", 12), (2, "井盖没了", 12)])


# -- the lexicon's colloquial and misspelled forms, and its narrowed rules

def _expanded(text: str) -> list[str]:
    return analysis.analyze(text).expansions


@pytest.mark.parametrize("wrong, right", [
    ("快叫救户车", "救护车"), ("对门在违见", "违建"), ("成管来了也不管", "城管"), ("工厂偷着排屋", "排污"),
    ("我们这停点了", "停电"), ("总闸跳阐了", "跳闸"),
])
def test_homophone_typos_are_fixed(wrong, right):
    fixed = analysis.analyze(wrong)
    assert right in fixed.text and any(r == right for _, r in fixed.fixes)


@pytest.mark.parametrize("text, concept", [
    ("老人在家摔了一跤，腿动不了了", "急救"),
    ("我老婆突然说不出话了，半边身子动不了", "急救"),
    ("马路边蹲着一个老头，穿得破破烂烂的", "流浪乞讨"),
    ("垃圾桶旁边纸箱子里有个刚出生的娃娃在哭", "弃婴"),
    ("外卖里吃出来一只蟑螂", "食品安全"),
    ("健身房老板卷钱跑了，年卡打水漂了", "预付卡"),
    ("鸡蛋昨天三块五一斤今天卖七块", "价格违法"),
    ("卖菜的三轮车把货摆到人行道上了", "占道经营"),
    ("有人在基本农田上挖坑取土", "非法占地"),
    ("房后的土坡往下溜，墙根都被埋了", "地质灾害"),
    ("砖厂的窑塌了，工人没出来", "安全生产事故"),
    ("小作坊偷偷灌装液化气罐往外卖", "违规储存危化品"),
    ("村口水沟里流的都是红颜色的水", "环境污染"),
    ("我们村的羊一只接一只地倒", "动物疫病"),
    ("晚上有人在烽火台那边挖古董", "文物"),
    ("灶台那边咝咝响，有股怪味", "燃气泄漏"),
    ("都停了一天了，啥时候来电啊", "停电"),
    ("路边有个铁盒子一直冒火花", "停电"),
])
def test_keywordless_everyday_wording_calls_up_the_rules_term(text, concept):
    assert concept in _expanded(text)


@pytest.mark.parametrize("text, not_concept", [
    ("卖菜的三轮车把小区出口堵了", "排水"),          # 堵了 alone is not a drain
    ("电梯老是往下掉一截，吓死人了", "无名尸体"),     # 吓死人 is not a body
    ("有人在沟里烧电线剥铜，烟又黑又臭", "停电"),     # burning cable is smoke, not a power fault
    ("娃娃还没回来，电话手表也打不通", "通信故障"),   # a person not answering is not a line fault
])
def test_over_broad_rules_no_longer_fire(text, not_concept):
    assert not_concept not in _expanded(text)


def test_drains_still_found_when_the_caller_names_one():
    assert "排水" in _expanded("下水道堵了，污水冒出来")
    assert "排水" in _expanded("厕所堵了好几天")


def test_a_lexicon_term_inside_a_categorys_name_counts_for_it():
    # No keyword of either category is in the call; the lexicon maps 台阶塌了/钢筋露出来 to 市政设施,
    # which is part of the first category's name only.
    from app.blueprints.routing.engine import CategoryDoc

    unit = {"id": 1, "name": "区市政局", "short_name": "市政"}
    other = {"id": 2, "name": "区民政局", "short_name": "民政"}
    catalogue = [
        CategoryDoc(id=1, code="0602", name="道路塌陷与市政设施险情", route="direct", severity="general",
                    keywords=["路面塌陷"], lead_unit=unit),
        CategoryDoc(id=2, code="0902", name="弃婴与走失儿童", route="direct", severity="general",
                    keywords=["走失儿童", "小孩迷路"], lead_unit=other),
    ]
    result = Index(catalogue).suggest("广场上的台阶塌了一块，钢筋都露出来了，小孩子在上面跑")
    assert names(result)[0] == "道路塌陷与市政设施险情"
    assert any(line["term"] == "市政设施" and line["kind"] == "concept" for line in explain(result.results[0].matches))
