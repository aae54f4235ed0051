"""The import upserts (units by name or short name, categories by code), never deletes, and counts."""
from __future__ import annotations

from openpyxl import Workbook

from tests.factories import assert_error, auth, database_snapshot, snapshot_difference
from tests.test_catalogue_xlsx_support import office, save_book, upload  # noqa: F401


def workbook(**sheets: list[list]) -> bytes:
    """A workbook with the given sheets, each a list of rows, the first being the headers."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    return save_book(book)


def one(sql, statement: str, **params):
    rows = sql(statement, **params)
    assert len(rows) == 1, rows
    return rows[0]


def test_a_dry_run_counts_and_writes_nothing_then_the_import_writes_and_audits(client, office, owner_engine, sql):
    tenant, headers = office
    content = workbook(**{
        "单位": [["单位名称 name", "简称 short_name", "值守类别 duty_class", "值班电话 duty_phone"],
                 ["区应急救援测试中心", "救援测试", "应急", "0935-7777777"],
                 ["区气象局", "气象", "值班", "0935-8888888"]],
        "派单目录": [["编码 code", "上级编码 parent_code", "名称 name", "主办单位 lead_unit"],
                     ["T-WEATHER", "T-GAS", "气象灾害", "气象"]],
    })
    before = database_snapshot(owner_engine)

    dry = upload(client, headers, "620602", content, dry_run=True)

    assert dry.status_code == 200, dry.get_json()
    expected = {"units_created": 1, "units_updated": 1, "categories_created": 1, "categories_updated": 0}
    assert dry.get_json() == {"dry_run": True, **expected}
    after = database_snapshot(owner_engine)
    assert after == before, snapshot_difference(before, after)

    real = upload(client, headers, "620602", content)

    assert real.status_code == 200, real.get_json()
    assert real.get_json() == {"dry_run": False, **expected}
    weather = one(sql, "SELECT c.name, u.short_name FROM categories c JOIN units u ON u.tenant_id = c.tenant_id "
                       "AND u.id = c.lead_unit_id WHERE c.code = 'T-WEATHER'")
    assert tuple(weather) == ("气象灾害", "气象")
    actions = [row.action for row in sql("SELECT action FROM audit_events WHERE tenant_id = :t AND seq > "
                                         "(SELECT max(seq) FROM audit_events WHERE tenant_id = :t "
                                         "AND action = 'category.updated') ORDER BY seq", t=tenant.id)]
    assert actions == ["unit.updated", "unit.created", "category.created", "catalogue.imported"]
    imported = one(sql, "SELECT actor_username, target_id, after FROM audit_events "
                        "WHERE action = 'catalogue.imported'")
    assert imported.target_id == "620602" and imported.after["units_created"] == 1
    assert imported.after["sheets"] == ["单位", "派单目录"]


def test_rows_match_by_name_or_short_name_and_absent_rows_and_columns_stay(client, office, sql):
    tenant, headers = office
    units_before = one(sql, "SELECT count(*) FROM units WHERE tenant_id = :t", t=tenant.id)[0]
    categories_before = one(sql, "SELECT count(*) FROM categories WHERE tenant_id = :t", t=tenant.id)[0]
    leak_before = one(sql, "SELECT keywords, lead_unit_id, time_limits FROM categories WHERE code = 'T-GAS-LEAK'")
    content = workbook(**{
        # Bare keys are headers too, and the column order is free.
        "单位": [["duty_phone", "name", "short_name"],
                 ["0935-1234567", "区民政与社会事务局", "民政"],      # matched by short name: renamed
                 ["0935-7654321", "区应急救援测试中心", "救援测试改"]],  # matched by name: short name changed
        "派单目录": [["severity", "code"], ["重特大", "T-GAS-LEAK"]],
    })

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["units_updated"] == 2 and response.get_json()["categories_updated"] == 1
    assert one(sql, "SELECT name, duty_phone FROM units WHERE short_name = '民政'") == (
        "区民政与社会事务局", "0935-1234567")
    assert one(sql, "SELECT short_name, duty_class FROM units WHERE name = '区应急救援测试中心'") == (
        "救援测试改", "emergency")
    assert one(sql, "SELECT count(*) FROM units WHERE tenant_id = :t", t=tenant.id)[0] == units_before
    assert one(sql, "SELECT count(*) FROM categories WHERE tenant_id = :t", t=tenant.id)[0] == categories_before
    leak = one(sql, "SELECT severity, keywords, lead_unit_id, time_limits FROM categories "
                    "WHERE code = 'T-GAS-LEAK'")
    assert leak.severity == "major"
    assert (leak.keywords, leak.lead_unit_id, leak.time_limits) == tuple(leak_before)


def test_booleans_and_choices_take_chinese_words_and_machine_values(client, office, sql):
    _tenant, headers = office
    content = workbook(派单目录=[
        ["code", "parent_code", "name", "lead_unit", "route", "severity", "needs_site_visit", "is_active"],
        ["T-B1", "T-GAS", "布尔一", "天然气", "police_first", "紧急", "否", "是"],
        ["T-B2", "T-GAS", "布尔二", "天然气", "公安先期处置", "urgent", "false", "TRUE"],
        ["T-B3", "T-GAS", "布尔三", "天然气", "直接派单", "一般", False, 0],
        [" T-B4 ", "T-GAS ", "布尔四", " 天然气", None, None, None, None],  # codes and names trimmed
    ])

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    rows = sql("SELECT code, route, severity, needs_site_visit, is_active FROM categories "
               "WHERE code LIKE 'T-B_' ORDER BY code")
    assert [tuple(row) for row in rows] == [
        ("T-B1", "police_first", "urgent", False, True),
        ("T-B2", "police_first", "urgent", False, True),
        ("T-B3", "direct", "general", False, False),
        ("T-B4", "direct", "general", True, True),   # blank: the defaults
    ]


def test_blank_cells_clear_nullable_fields_and_overrides(client, office, sql):
    _tenant, headers = office
    content = workbook(**{
        "单位": [["name", "leader_name", "webhook_url", "kind"], ["区应急救援测试中心", None, "", None]],
        "派单目录": [["code", "ack_minutes", "arrive_minutes.urban", "keywords", "description"],
                     ["T-GAS-LEAK", None, 20, None, None]],
    })

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    rescue = one(sql, "SELECT leader_name, webhook_url, kind, leader_phone FROM units WHERE short_name = '救援测试'")
    assert tuple(rescue) == (None, None, "linkage", "13909351111")  # leader_phone's column was absent
    leak = one(sql, "SELECT time_limits, keywords, description FROM categories WHERE code = 'T-GAS-LEAK'")
    assert leak.time_limits == {"arrive_minutes": {"urban": 20, "rural": 60}}
    assert (leak.keywords, leak.description) == ([], "")


def test_duties_are_added_or_reworded_never_removed_and_can_be_served_at_once(client, office, sql):
    _tenant, headers = office
    content = workbook(**{
        "职责": [["unit", "number", "text"],
                 ["救援测试", 2, "负责山地遇险人员的搜救（改）"],
                 ["区应急救援测试中心", 3, "负责水域遇险人员的搜救"]],
        "派单目录": [["code", "parent_code", "name", "lead_unit", "responsibilities"],
                     ["T-WATER", "T-GAS", "水域遇险", "救援测试", "救援测试.3，救援测试．1"]],
    })

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["units_updated"] == 1
    duties = sql("SELECT r.number, r.text FROM unit_responsibilities r JOIN units u ON u.tenant_id = r.tenant_id "
                 "AND u.id = r.unit_id WHERE u.short_name = '救援测试' ORDER BY r.number")
    assert [tuple(row) for row in duties] == [(1, "负责山地、水域遇险人员的搜救"), (2, "负责山地遇险人员的搜救（改）"),
                                              (3, "负责水域遇险人员的搜救")]
    served = sql("SELECT r.number FROM category_responsibilities cr JOIN categories c "
                 "ON c.tenant_id = cr.tenant_id AND c.id = cr.category_id "
                 "JOIN unit_responsibilities r ON r.tenant_id = cr.tenant_id "
                 "AND r.id = cr.responsibility_id WHERE c.code = 'T-WATER' ORDER BY r.number")
    assert [row.number for row in served] == [1, 3]
    # The category linked to number 2 before still serves it: the row was kept, only its text changed.
    assert len(sql("SELECT 1 FROM category_responsibilities cr JOIN categories c ON c.tenant_id = cr.tenant_id "
                   "AND c.id = cr.category_id WHERE c.code = 'T-RESCUE'")) == 2


def test_new_rows_may_be_inactive_and_children_may_come_before_parents(client, office, sql):
    _tenant, headers = office
    content = workbook(**{
        "单位": [["name", "short_name", "duty_class", "is_active"], ["区候补局", "候补", "其他", "否"]],
        "派单目录": [["code", "parent_code", "name", "lead_unit", "is_active"],
                     ["T-KID", "T-PARENT", "子类", "候补", "否"],
                     ["T-PARENT", None, "父类", None, "是"]],
    })

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    assert one(sql, "SELECT is_active FROM units WHERE short_name = '候补'")[0] is False
    kid = one(sql, "SELECT c.is_active, p.code FROM categories c JOIN categories p ON p.tenant_id = c.tenant_id "
                   "AND p.id = c.parent_id WHERE c.code = 'T-KID'")
    assert tuple(kid) == (False, "T-PARENT")


def test_a_category_keeps_its_parent(client, office, owner_engine):
    _tenant, headers = office
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", workbook(派单目录=[["code", "parent_code"], ["T-THEFT", "T-GAS"]]))

    body = assert_error(response, 422, "import_rejected")
    assert [(p["row"], p["column"], p["code"]) for p in body["errors"]["rows"]] == [
        (2, "parent_code", "parent_cannot_change")]
    assert database_snapshot(owner_engine) == before


def test_only_the_linkage_office_imports(client, office, factory, owner_engine):
    tenant, _headers = office
    content = workbook(单位=[["name", "duty_phone"], ["区应急救援测试中心", "0935-5555555"]])
    other = factory.tenant("620102", "城关区")
    before = database_snapshot(owner_engine)

    for role in ("dispatcher", "leader", "unit_liaison", "unit_leader", "responder"):
        assert_error(upload(client, auth(client, factory.user(tenant, role)), "620602", content), 403, "forbidden")
    supervisor = factory.user(None, "provincial_supervisor", province_code="620000")
    assert_error(upload(client, auth(client, supervisor), "620602", content), 403, "read_only")
    assert_error(upload(client, auth(client, factory.user(other, "tenant_admin")), "620602", content),
                 404, "tenant_not_found")
    assert_error(upload(client, {}, "620602", content), 401)
    # Logins wrote their own rows; the catalogue is untouched.
    after = database_snapshot(owner_engine)
    for table in ("units", "unit_responsibilities", "categories", "category_assists", "category_responsibilities"):
        assert after[table] == before[table], table
