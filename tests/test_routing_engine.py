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
