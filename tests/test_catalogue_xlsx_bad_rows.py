"""A workbook with bad rows is refused whole: 422 `import_rejected` listing exactly those rows, nothing written."""
from __future__ import annotations

from tests.factories import assert_error, auth, database_snapshot, snapshot_difference
from tests.test_catalogue_xlsx_support import (append_row, column_of, export, office, open_book,  # noqa: F401
                                               row_of, save_book, upload)


def refused(response, owner_engine, before) -> list[tuple]:
    body = assert_error(response, 422, "import_rejected")
    after = database_snapshot(owner_engine)
    assert after == before, snapshot_difference(before, after)
    assert set(body["errors"]) == {"rows"}
    for problem in body["errors"]["rows"]:
        assert set(problem) == {"sheet", "row", "column", "code", "message"} and problem["message"]
    return sorted(((p["sheet"], p["row"], p["column"], p["code"]) for p in body["errors"]["rows"]), key=repr)


def listed(*problems: tuple) -> list[tuple]:
    return sorted(problems, key=repr)


def test_bad_category_rows_are_each_reported_and_nothing_is_imported(client, office, factory, owner_engine):
    _tenant, headers = office
    other = factory.tenant("620102", "城关区")
    other_office = auth(client, factory.user(other, "tenant_admin"))
    assert client.post("/api/v1/t/620102/units", headers=other_office, json={
        "name": "城关外卖平台", "short_name": "外卖", "duty_class": "other"}).status_code == 201
    book = open_book(export(client, headers, "620602"))
    units, catalogue = book["单位"], book["派单目录"]
    # A good change in the same file, which must not be applied either.
    units.cell(row_of(units, "short_name", "救援测试"), column_of(units, "duty_phone"), "0935-9999999")
    good = {"parent_code": "T-GAS", "lead_unit": "天然气", "route": "直接派单", "severity": "一般"}
    unknown_lead = append_row(catalogue, {**good, "code": "T-NEW-1", "name": "新增一", "lead_unit": "不存在的单位"})
    repeated_code = append_row(catalogue, {**good, "code": "T-GAS-LEAK", "name": "燃气泄漏（重复）"})
    foreign_unit = append_row(catalogue, {**good, "code": "T-NEW-2", "name": "新增二", "lead_unit": "外卖"})
    bad_route = append_row(catalogue, {**good, "code": "T-NEW-3", "name": "新增三", "route": "飞行"})
    third_level = append_row(catalogue, {**good, "code": "T-NEW-4", "name": "新增四", "parent_code": "T-GAS-LEAK"})
    valid_new = append_row(catalogue, {**good, "code": "T-NEW-5", "name": "新增五"})
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book))

    assert refused(response, owner_engine, before) == listed(
        ("派单目录", unknown_lead, "lead_unit", "unit_not_found"),
        ("派单目录", repeated_code, "code", "duplicate_in_file"),
        ("派单目录", foreign_unit, "lead_unit", "unit_not_found"),
        ("派单目录", bad_route, "route", "invalid_value"),
        ("派单目录", third_level, "parent_code", "too_deep"),
    )
    assert valid_new not in {unknown_lead, repeated_code, foreign_unit, bad_route, third_level}


def test_the_same_file_in_a_dry_run_is_refused_the_same_way(client, office, owner_engine):
    _tenant, headers = office
    book = open_book(export(client, headers, "620602"))
    bad = append_row(book["派单目录"], {"code": "T-NEW", "name": "新增", "parent_code": "T-GAS", "lead_unit": "无此单位"})
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book), dry_run=True)

    assert refused(response, owner_engine, before) == [("派单目录", bad, "lead_unit", "unit_not_found")]


def test_bad_unit_and_duty_rows_name_their_cells(client, office, owner_engine):
    _tenant, headers = office
    book = open_book(export(client, headers, "620602"))
    units, duties = book["单位"], book["职责"]
    rescue = row_of(units, "short_name", "救援测试")
    units.cell(rescue, column_of(units, "duty_class"), "全天")
    units.cell(rescue, column_of(units, "liaison_phone"), "call me")
    units.cell(rescue, column_of(units, "is_active"), "也许")
    nameless = append_row(units, {"duty_class": "值班", "duty_phone": "0935-1"})
    stranger = append_row(duties, {"unit": "无此单位", "number": 1, "text": "职责"})
    repeated = append_row(duties, {"unit": "救援测试", "number": 1, "text": "再写一遍"})
    zero = append_row(duties, {"unit": "民政", "number": 0, "text": "序号为零"})
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book))

    assert refused(response, owner_engine, before) == listed(
        ("单位", rescue, "duty_class", "invalid_value"),
        ("单位", rescue, "liaison_phone", "invalid_value"),
        ("单位", rescue, "is_active", "invalid_value"),
        ("单位", nameless, "name", "required"),
        ("职责", stranger, "unit", "unit_not_found"),
        ("职责", repeated, "number", "duplicate_in_file"),
        ("职责", zero, "number", "invalid_value"),
    )


def test_rules_of_the_services_are_the_rules_of_the_import(client, office, owner_engine):
    """Codes from the same services as the API: lead unit required, lead not assisting, police route."""
    _tenant, headers = office
    book = open_book(export(client, headers, "620602"))
    catalogue = book["派单目录"]
    base = {"parent_code": "T-POLICE", "route": "直接派单"}
    leaderless = append_row(catalogue, {**base, "code": "T-A", "name": "甲"})
    lead_assists = append_row(catalogue, {**base, "code": "T-B", "name": "乙", "lead_unit": "建设",
                                          "assisting_units": "市政、建设"})
    police_route = append_row(catalogue, {**base, "code": "T-C", "name": "丙", "lead_unit": "建设",
                                          "route": "police"})
    sibling_name = append_row(catalogue, {**base, "code": "T-D", "name": "盗窃", "lead_unit": "公安"})
    unknown_parent = append_row(catalogue, {**base, "code": "T-E", "name": "戊", "lead_unit": "公安",
                                            "parent_code": "NOPE"})
    bad_duty = append_row(catalogue, {**base, "code": "T-F", "name": "己", "lead_unit": "民政",
                                      "responsibilities": "民政.77、民政"})
    both_resolve = append_row(catalogue, {**base, "code": "T-G", "name": "庚", "lead_unit": "民政",
                                          "resolve_hours": 4, "resolve_working_days": 2})
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book))

    assert refused(response, owner_engine, before) == listed(
        ("派单目录", leaderless, "lead_unit", "lead_unit_required"),
        ("派单目录", lead_assists, "assisting_units", "lead_also_assisting"),
        ("派单目录", police_route, "lead_unit", "police_route_needs_police_unit"),
        ("派单目录", sibling_name, "name", "category_name_taken"),
        ("派单目录", unknown_parent, "parent_code", "parent_not_found"),
        ("派单目录", bad_duty, "responsibilities", "responsibility_not_found"),
        ("派单目录", bad_duty, "responsibilities", "invalid_value"),
        ("派单目录", both_resolve, "resolve_hours", "invalid_value"),
    )


def test_rows_depending_on_a_refused_row_say_so(client, office, owner_engine):
    _tenant, headers = office
    book = open_book(export(client, headers, "620602"))
    bad_unit = append_row(book["单位"], {"name": "区新建局", "short_name": "新建", "duty_class": "不知道"})
    bad_parent = append_row(book["派单目录"], {"code": "T-NEWGROUP", "name": "新组", "severity": "极高"})
    child = append_row(book["派单目录"], {"code": "T-NEWCHILD", "name": "新子类", "parent_code": "T-NEWGROUP",
                                          "lead_unit": "新建"})
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book))

    assert refused(response, owner_engine, before) == listed(
        ("单位", bad_unit, "duty_class", "invalid_value"),
        ("派单目录", bad_parent, "severity", "invalid_value"),
        ("派单目录", child, "parent_code", "parent_row_rejected"),
        ("派单目录", child, "lead_unit", "unit_row_rejected"),
    )


def test_unknown_and_missing_columns_are_reported_at_the_header(client, office, owner_engine):
    _tenant, headers = office
    book = open_book(export(client, headers, "620602"))
    units, catalogue = book["单位"], book["派单目录"]
    units.cell(1, units.max_column + 1, "备注 remark")
    catalogue.cell(1, column_of(catalogue, "code"), "编号")
    before = database_snapshot(owner_engine)

    response = upload(client, headers, "620602", save_book(book))

    assert refused(response, owner_engine, before) == listed(
        ("单位", 1, None, "unknown_column"),
        ("派单目录", 1, None, "unknown_column"),
        ("派单目录", 1, "code", "missing_column"),
    )
