"""The text model as a second opinion: it finds the unit of a call the lexicon misreads, says so truthfully,
is the same model every time, and stays silent for a district whose units it does not know.

The calls are our own wording, not taken from any labelled set or the corpus.
"""
from __future__ import annotations

import pytest

from app.blueprints.routing import engine, textmodel
from app.blueprints.routing.engine import CategoryDoc, Index, explain
from app.tenants.templates import loader
from bench.routing.fixture_catalogue import docs as fixture_docs
from tests.factories import auth
from tests.test_routing_suggest_api import PATH, district  # noqa: F401  (the fixture)

# A rural bridge has fallen in: the rules give rural roads and bridges to 交通, while the catalogue's
# words (a hole, a bridge) point at the city's roads (市政).
RURAL_BRIDGE = "村口那座小桥桥面塌了个大窟窿，三轮车都过不去"


def liangzhou_docs() -> list[CategoryDoc]:
    """The Liangzhou template's level-2 categories as the index sees them, with made-up ids."""
    template = loader.load(textmodel.TEMPLATE)
    units = {u.short_name: {"id": i, "name": u.name, "short_name": u.short_name}
             for i, u in enumerate(template.units, start=1)}
    duties = {(u.short_name, n): text for u in template.units for n, text in u.responsibilities.items()}
    docs = []
    for number, group in enumerate(template.groups, start=1):
        parent = {"id": 1000 + number, "code": group.code, "name": group.name}
        for c in group.categories:
            docs.append(CategoryDoc(id=len(docs) + 1, code=c.code, name=c.name, route=c.route, severity=c.severity,
                                    description=c.description, keywords=list(c.keywords), parent=parent,
                                    lead_unit=units[c.lead], assisting_units=[units[a] for a in c.assists],
                                    responsibilities=[duties[r] for r in c.responsibilities]))
    return docs


@pytest.fixture(scope="module")
def model() -> textmodel.UnitModel:
    trained = textmodel.shared()
    assert trained is not None
    return trained


@pytest.fixture(scope="module")
def liangzhou(model) -> Index:
    return Index(liangzhou_docs(), text_model=model)


def lead(result, rank: int = 0) -> str:
    return result.results[rank].doc.lead_unit["short_name"]


def test_the_model_puts_first_the_unit_the_lexicon_alone_misses(liangzhou):
    assert lead(liangzhou.suggest(RURAL_BRIDGE, use_model=False)) != "交通"
    assert lead(liangzhou.suggest(RURAL_BRIDGE)) == "交通"


def test_the_explanation_shows_the_models_probability_not_words(liangzhou):
    top = liangzhou.suggest(RURAL_BRIDGE).results[0]
    line = next(line for line in explain(top.matches) if line["source"] == "model")
    p = liangzhou.text_model.read(liangzhou.suggest(RURAL_BRIDGE).analysis.text).probabilities["交通"]
    assert line["term"] == f"P(交通)={p:.2f}" and line["kind"] == "model"
    assert line["weight"] == pytest.approx(engine.MODEL_WEIGHT * p, abs=1e-3)
    # Every other line is still the caller's words or the rules' terms, as before.
    assert all(m.source != "model" or m.term.startswith("P(") for m in top.matches)


def test_a_unit_nothing_found_is_brought_in_with_its_closest_category(liangzhou):
    # No catalogue word at all: only the model can say whose this is.
    result = liangzhou.suggest(RURAL_BRIDGE, use_model=False)
    found = {s.doc.lead_unit["short_name"] for s in result.results}
    blended = liangzhou.suggest(RURAL_BRIDGE, limit=10)
    brought = [s for s in blended.results if all(m.source == "model" for m in s.matches)]
    assert all(s.doc.lead_unit["short_name"] not in found for s in brought)


def test_training_is_deterministic(model):
    again = textmodel.train(textmodel.corpus())
    assert again.digest == model.digest and again.units == model.units
    assert (again.classifier.coef_ == model.classifier.coef_).all()
    vector = model.vector(RURAL_BRIDGE)
    assert again.probabilities(again.vector(RURAL_BRIDGE)) == model.probabilities(vector)


def test_a_district_with_other_unit_names_gets_no_model(model):
    renamed = [CategoryDoc(id=d.id, code=d.code, name=d.name, route=d.route, severity=d.severity,
                           description=d.description, keywords=d.keywords, parent=d.parent,
                           lead_unit={**d.lead_unit, "short_name": f"单位{d.lead_unit['id']:02d}"})
               for d in liangzhou_docs()]
    index = Index(renamed, text_model=model)
    assert index.text_model is None
    result = index.suggest(RURAL_BRIDGE)
    assert not any(m.source == "model" for s in result.results for m in s.matches)
    # Mostly another district's names is no better than none: a probability for a unit it lacks means nothing.
    mostly = renamed[: len(renamed) // 2] + liangzhou_docs()[len(renamed) // 2:]
    assert Index(mostly, text_model=model).text_model is None


def test_the_api_explains_the_model_line(client, factory, district):  # noqa: F811
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    body = client.post(PATH.format(code="620602"), headers=auth(client, desk),
                       json={"text": "楼下一个老人摔倒了起不来，头上流血"}).get_json()
    lines = [m for s in body["suggestions"] for m in s["matched"] if m["source"] == "model"]
    assert lines and all(m["kind"] == "model" and m["term"].startswith("P(") for m in lines)


def test_the_fixture_catalogue_gets_the_model_with_fewer_units(model):
    # A smaller district using the same unit names is still a district the model knows.
    assert Index(fixture_docs(), text_model=model).text_model is not None
