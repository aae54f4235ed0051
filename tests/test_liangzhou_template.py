"""The Liangzhou template against its source, the seed document: Chapter 3 and Articles 8 and 12.

The seed is read from SEED_SPEC_PATH, or else from shared/seed/ beside the repository (CI runs
in a fresh clone with a copy of shared/ next to it).
"""
from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT
from app.tenants.templates import TEMPLATES, loader

SEED_NAME = "liangzhou-110-linkage-spec.txt"

# Where the template names a Chapter 3 heading differently, and why (see liangzhou.toml):
# the three telecom companies are three units; 其他单位 is the catch-all with the towns.
UNITS_OF_HEADING = {
    "区电信、移动、联通分公司": ["区电信分公司", "区移动分公司", "区联通分公司"],
    "其他单位": ["乡镇（街道）及其他单位"],
}
# Article 12's emergency list names services; these are the units that provide them.
EMERGENCY_SERVICES = {
    "公安": ["区公安局"],
    "医疗急救": ["区卫计局"],                                  # 卫计 2: the medical command centre
    "供电": ["区供电公司"],
    "供水": ["区建设局"],                                      # 建设 3: water supply and drains
    "供气": ["区建设局", "各天然气公司"],                       # 建设 4 and the gas companies
    "市政抢修": ["区市政局"],
    "电视网络抢修": ["区电信分公司", "区移动分公司", "区联通分公司"],  # network repair: the carriers
}


def seed_path() -> Path:
    configured = os.environ.get("SEED_SPEC_PATH")
    return Path(configured) if configured else Path(PROJECT_ROOT).parent / "shared" / "seed" / SEED_NAME


@pytest.fixture(scope="module")
def seed_text() -> str:
    path = seed_path()
    assert path.is_file(), f"seed document not found at {path}; set SEED_SPEC_PATH"
    return path.read_text(encoding="utf-8")


def normalise(text: str) -> str:
    """Whitespace collapsed, and the seed's lost zeros restored: a lone "11" is "110"."""
    return " ".join(re.sub(r"(?<!\d)11(?!\d)", "110", text).split())


def chapter_3(seed: str) -> dict[str, dict[int, str]]:
    """Article 7's headings (一)…(二十九): unit name -> {responsibility number: text}."""
    article = seed[seed.index("第七条"):seed.index("第四章")]
    parts = re.split(r"\(([一二三四五六七八九十]{1,3})\)", article)[1:]
    units = {}
    for body in parts[1::2]:
        name = re.match(r"\s*(.+?(?:局|办|公司|单位))", body)
        rest = body[name.end():].strip()
        starts, position = [], 0
        while found := re.compile(rf"(?<!\d){len(starts) + 1}[.、]").search(rest, position):
            starts.append(found)
            position = found.end()
        if not starts or starts[0].start() != 0:  # an unnumbered paragraph is responsibility 1
            units[name.group(1)] = {1: normalise(rest)}
            continue
        ends = [s.start() for s in starts[1:]] + [len(rest)]
        units[name.group(1)] = {number: normalise(rest[start.end():end])
                                for number, (start, end) in enumerate(zip(starts, ends), start=1)}
    return units


def article_12_lists(seed: str) -> tuple[list[str], list[str]]:
    article = seed[seed.index("第十二条"):seed.index("第十三条")]
    emergency = re.search(r"。([^。;；]+?)等担负紧急救援职能", article).group(1)
    standard = re.search(r"[;；]([^。;；]+?)等担负非紧急救援职能", article).group(1)
    return emergency.split("、"), standard.split("、")


def create_liangzhou(app, sql) -> int:
    result = app.test_cli_runner().invoke(
        args=["tenants", "create", "--code", "620602", "--name", "凉州区", "--template", "liangzhou"])
    assert result.exit_code == 0, result.output
    return sql("SELECT id FROM tenants WHERE code = '620602'")[0].id


def level_2(sql, tenant_id: int) -> list:
    return sql("""
        SELECT c.id, c.code, c.name, c.route, c.severity, c.keywords, c.is_active, c.parent_id,
               lead.short_name AS lead, lead.kind AS lead_kind,
               (SELECT coalesce(array_agg(u.short_name ORDER BY u.short_name), '{}') FROM category_assists a
                  JOIN units u ON u.tenant_id = a.tenant_id AND u.id = a.unit_id
                 WHERE a.tenant_id = c.tenant_id AND a.category_id = c.id) AS assists,
               (SELECT coalesce(array_agg(u.short_name || '.' || r.number), '{}') FROM category_responsibilities cr
                  JOIN unit_responsibilities r ON r.tenant_id = cr.tenant_id AND r.id = cr.responsibility_id
                  JOIN units u ON u.tenant_id = r.tenant_id AND u.id = r.unit_id
                 WHERE cr.tenant_id = c.tenant_id AND cr.category_id = c.id) AS serves
          FROM categories c LEFT JOIN units lead ON lead.tenant_id = c.tenant_id AND lead.id = c.lead_unit_id
         WHERE c.tenant_id = :t AND c.parent_id IS NOT NULL ORDER BY c.code""", t=tenant_id)


def test_every_unit_and_numbered_responsibility_of_chapter_3_is_in_the_tenant(app, sql, seed_text):
    tenant_id = create_liangzhou(app, sql)
    seed = chapter_3(seed_text)
    expected = {unit: duties for heading, duties in seed.items() for unit in UNITS_OF_HEADING.get(heading, [heading])}

    stored: dict[str, dict[int, str]] = {}
    for row in sql("SELECT u.name, r.number, r.text FROM units u LEFT JOIN unit_responsibilities r "
                   "ON r.tenant_id = u.tenant_id AND r.unit_id = u.id WHERE u.tenant_id = :t", t=tenant_id):
        stored.setdefault(row.name, {})
        if row.number is not None:
            stored[row.name][row.number] = normalise(row.text)

    assert len(seed) == 29 and sum(map(len, seed.values())) == 70  # the parse itself read the whole chapter
    assert set(stored) == set(expected)
    for unit, duties in expected.items():
        assert sorted(stored[unit]) == sorted(duties), unit
        for number, text in duties.items():
            assert stored[unit][number] == text, f"{unit} {number}"


def test_units_keep_the_order_of_article_7(app, sql, seed_text):
    tenant_id = create_liangzhou(app, sql)
    order = [unit for heading in chapter_3(seed_text) for unit in UNITS_OF_HEADING.get(heading, [heading])]

    assert [r.name for r in sql("SELECT name FROM units WHERE tenant_id = :t ORDER BY sort_order",
                                t=tenant_id)] == order


def test_every_responsibility_is_served_by_an_active_level_2_category(app, sql):
    tenant_id = create_liangzhou(app, sql)

    uncovered = sql("""
        SELECT u.short_name, r.number FROM unit_responsibilities r
          JOIN units u ON u.tenant_id = r.tenant_id AND u.id = r.unit_id
         WHERE r.tenant_id = :t AND NOT EXISTS (
               SELECT 1 FROM category_responsibilities cr
                 JOIN categories c ON c.tenant_id = cr.tenant_id AND c.id = cr.category_id
                WHERE cr.tenant_id = r.tenant_id AND cr.responsibility_id = r.id
                  AND c.is_active AND c.parent_id IS NOT NULL)""", t=tenant_id)

    assert sql("SELECT count(*) FROM unit_responsibilities WHERE tenant_id = :t", t=tenant_id)[0][0] == 78
    assert uncovered == []


def test_the_catalogue_has_two_levels_and_every_level_2_category_a_lead_unit(app, sql):
    tenant_id = create_liangzhou(app, sql)
    groups = sql("SELECT id, lead_unit_id, keywords FROM categories WHERE tenant_id = :t AND parent_id IS NULL",
                 t=tenant_id)
    categories = level_2(sql, tenant_id)

    assert len(categories) >= 60
    assert all(c.is_active and c.lead is not None for c in categories)
    assert {c.parent_id for c in categories} == {g.id for g in groups}  # every group holds some
    assert all(g.lead_unit_id is None and g.keywords == [] for g in groups)
    assert all(len(c.keywords) >= 5 for c in categories)


def test_no_keyword_points_to_two_categories(app, sql):
    tenant_id = create_liangzhou(app, sql)
    owners: dict[str, list[str]] = {}
    for category in level_2(sql, tenant_id):
        for keyword in category.keywords:
            owners.setdefault(keyword, []).append(category.code)

    assert {k: codes for k, codes in owners.items() if len(codes) > 1} == {}


def test_police_routes_go_to_the_police_unit_and_hazards_go_police_first(app, sql):
    tenant_id = create_liangzhou(app, sql)
    categories = level_2(sql, tenant_id)
    police_first_serves = {duty for c in categories if c.route == "police_first" for duty in c.serves}

    police = [c for c in categories if c.route == "police"]
    assert police and all(c.lead_kind == "police" and c.assists == [] for c in police)
    # Article 8: gas, water, power and elevator hazards — police respond first, the unit at once.
    assert {"天然气.1", "建设.4", "建设.3", "供电.1", "质监.2"} <= police_first_serves
    assert all(c.lead_kind == "linkage" for c in categories if c.route != "police")


# The words citizens use, the unit that must lead, and the route Article 8 implies.
CITIZEN_WORDS = [
    ("煤气味", "天然气", "police_first"), ("燃气泄漏", "天然气", "police_first"),
    ("水管爆了", "建设", "police_first"), ("停水", "建设", "direct"),
    ("电线掉下来", "供电", "police_first"), ("跳闸", "供电", "direct"),
    ("电梯困人", "质监", "police_first"), ("卡在电梯里", "质监", "police_first"),
    ("树倒在路上", "市政", "police_first"), ("危房", "建设", "police_first"),
    ("山体滑坡", "国土", "police_first"), ("洪水", "水务", "police_first"),
    ("山火", "林业", "police_first"), ("危化品泄漏", "安监", "police_first"),
    ("迷路老人", "民政", "police_first"), ("流浪", "民政", "direct"), ("乞讨", "民政", "direct"),
    ("讨薪", "人社", "direct"), ("拖欠工资", "人社", "direct"),
    ("噪音扰民", "环保", "direct"), ("排污", "环保", "direct"), ("臭味", "环保", "direct"),
    ("宰客", "旅游", "direct"), ("乱收费", "物价", "direct"), ("假货", "工商", "direct"),
    ("占道经营", "城市执法", "direct"), ("违建", "城市执法", "direct"),
    ("狗咬", "公安", "police"), ("野生动物", "林业", "direct"),
]


def test_citizens_words_lead_to_the_responsible_unit_by_the_route_of_article_8(app, sql):
    tenant_id = create_liangzhou(app, sql)
    categories = level_2(sql, tenant_id)

    found = {word: [(c.lead, c.route) for c in categories if word in c.keywords] for word, _, _ in CITIZEN_WORDS}

    assert found == {word: [(lead, route)] for word, lead, route in CITIZEN_WORDS}


def test_duty_classes_follow_article_12(app, sql, seed_text):
    tenant_id = create_liangzhou(app, sql)
    classes = {r.name: r.duty_class for r in sql("SELECT name, duty_class FROM units WHERE tenant_id = :t",
                                                 t=tenant_id)}
    emergency_services, standard_words = article_12_lists(seed_text)
    emergency = {unit for service in emergency_services for unit in EMERGENCY_SERVICES[service]}
    standard = {f"区{word}局" for word in standard_words}

    assert set(emergency_services) == set(EMERGENCY_SERVICES)
    assert standard_words == ["民政", "工商", "商务", "环保", "旅游", "林业", "水务"]
    assert {name: classes[name] for name in emergency} == dict.fromkeys(emergency, "emergency")
    assert {name: classes[name] for name in standard} == dict.fromkeys(standard, "standard")
    others = set(classes) - emergency - standard
    assert {name: classes[name] for name in others} == dict.fromkeys(others, "other")


def test_one_police_unit_and_one_supervisor_who_is_never_instructed(app, sql):
    tenant_id = create_liangzhou(app, sql)
    kinds = {r.name: r.kind for r in sql("SELECT name, kind FROM units WHERE tenant_id = :t", t=tenant_id)}
    instructed = {name for c in level_2(sql, tenant_id) for name in [c.lead, *c.assists]}

    assert {n for n, k in kinds.items() if k == "police"} == {"区公安局"}
    assert {n for n, k in kinds.items() if k == "supervisor"} == {"区督查办"}
    assert "督查办" not in instructed


# ------------------------------------------------------------------ the loader refuses bad files

GOOD = """
[[unit]]
name = "区公安局"
short_name = "公安"
kind = "police"
duty_class = "emergency"

[[unit.responsibility]]
number = 1
text = "受理报警。"

[[unit]]
name = "区民政局"
short_name = "民政"
kind = "linkage"
duty_class = "standard"

[[unit.responsibility]]
number = 1
text = "救助流浪乞讨人员。"

[[group]]
code = "01"
name = "救助"

[[group.category]]
code = "0101"
name = "流浪乞讨"
lead = "民政"
route = "direct"
severity = "general"
keywords = ["流浪"]
responsibilities = ["民政.1"]

[[group.category]]
code = "0102"
name = "治安"
lead = "公安"
route = "police"
severity = "general"
keywords = ["打架"]
responsibilities = ["公安.1"]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(loader.TemplateError) as refused:
        loader.parse(text)
    return refused.value.problems


def test_the_loader_accepts_a_small_good_file():
    template = loader.parse(GOOD)

    assert [u.short_name for u in template.units] == ["公安", "民政"]
    assert [c.code for g in template.groups for c in g.categories] == ["0101", "0102"]


@pytest.mark.parametrize(("change", "problem"), [
    (('lead = "民政"', 'lead = "城管"'), "category 0101 流浪乞讨: unknown unit '城管'"),
    (('code = "0102"', 'code = "0101"'), "duplicate category code '0101'"),
    (('responsibilities = ["民政.1"]', 'responsibilities = ["公安.1"]'),
     "responsibility 民政.1 is served by no category"),
    (('responsibilities = ["民政.1"]', 'responsibilities = ["民政.2"]'),
     "category 0101 流浪乞讨: unknown responsibility 民政.2"),
    (('keywords = ["打架"]', 'keywords = ["流浪"]'), "keyword '流浪' is in both 0101 and 0102"),
    (('lead = "公安"', 'lead = "民政"'), "category 0102 治安: route police means the police unit alone"),
    (('route = "direct"', 'route = "urgent"'), "route 'urgent' is not one of"),
    (('severity = "general"\nkeywords = ["流浪"]', 'severity = "general"\nassist = ["公安"]\nkeywords = ["流浪"]'),
     "unknown key 'assist'"),
], ids=["unknown-unit", "duplicate-code", "uncovered", "unknown-responsibility", "shared-keyword",
        "police-route", "bad-route", "typo-key"])
def test_the_loader_names_each_problem(change, problem):
    old, new = change
    assert old in GOOD

    assert any(problem in p for p in problems_of(GOOD.replace(old, new, 1))), problem


def test_a_broken_template_creates_no_tenant(app, sql, tmp_path, monkeypatch):
    from app.tenants import service
    from app.tenants.context import tenant_scope

    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD.replace('lead = "民政"', 'lead = "城管"'), encoding="utf-8")
    monkeypatch.setitem(TEMPLATES, "broken", partial(loader.apply_file, broken))

    with app.app_context(), tenant_scope(is_platform=True), pytest.raises(loader.TemplateError):
        service.create_tenant(code="620602", name="凉州区", template="broken")

    assert sql("SELECT count(*) FROM tenants")[0][0] == 0
    assert sql("SELECT count(*) FROM units")[0][0] == 0
