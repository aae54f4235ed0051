"""The export: a workbook a clerk can read and edit, with the district's units, duties and catalogue."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.factories import assert_error, auth
from tests.test_catalogue_xlsx_support import (SHEETS, XLSX, export, office, open_book,  # noqa: F401
                                               rows_as_dicts)


def test_export_is_an_xlsx_named_for_the_district_and_the_day(client, office):
    _tenant, headers = office

    response = client.get("/api/v1/t/620602/catalogue/export.xlsx", headers=headers)

    assert response.status_code == 200
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    assert disposition.startswith("attachment;")
    assert f'filename="catalogue-620602-{today}.xlsx"' in disposition
    assert re.search(rf"filename\*=UTF-8''\S*620602-{today}\.xlsx", disposition)
    assert response.headers["Cache-Control"] == "no-store"
    book = open_book(response.get_data())
    assert book.sheetnames[:3] == list(SHEETS)
    assert "说明" in book.sheetnames and "凉州区（620602）" in book["说明"]["A1"].value


def test_headers_carry_chinese_names_and_stable_keys(client, office):
    _tenant, headers = office

    book = open_book(export(client, headers, "620602"))

    units = [cell.value for cell in book["单位"][1]]
    categories = [cell.value for cell in book["派单目录"][1]]
    assert units[:4] == ["单位名称 name", "简称 short_name", "值守类别 duty_class", "单位类型 kind"]
    assert {"值班电话 duty_phone", "联络员电话 liaison_phone", "推送地址 webhook_url", "启用 is_active"} <= set(units)
    assert [cell.value for cell in book["职责"][1]] == ["单位简称 unit", "序号 number", "职责内容 text"]
    assert {"编码 code", "上级编码 parent_code", "关键词 keywords", "主办单位 lead_unit", "协办单位 assisting_units",
            "处置方式 route", "需到场 needs_site_visit", "签收时限(分钟) ack_minutes",
            "到场时限-城区(分钟) arrive_minutes.urban", "对应职责 responsibilities"} <= set(categories)


def test_units_rows_hold_contacts_duties_and_zh_values(client, office):
    _tenant, headers = office

    book = open_book(export(client, headers, "620602"))

    units = {row["short_name"]: row for row in rows_as_dicts(book["单位"])}
    rescue = units["救援测试"]
    assert (rescue["name"], rescue["duty_class"], rescue["kind"], rescue["is_active"]) == (
        "区应急救援测试中心", "应急", "联动", "是")
    assert (rescue["duty_phone"], rescue["liaison_phone"], rescue["webhook_url"]) == (
        "0935-2210000", "+86-13909352222", "https://rescue.example.gov.cn/hook")
    assert units["公安"]["kind"] == "公安" and units["停用测试"]["is_active"] == "否"
    duties = [(row["unit"], row["number"], row["text"]) for row in rows_as_dicts(book["职责"])
              if row["unit"] == "救援测试"]
    assert duties == [("救援测试", 1, "负责山地、水域遇险人员的搜救"),
                      ("救援测试", 2, "=HYPERLINK(\"http://evil.example\") 不是公式")]


def test_categories_rows_name_units_and_duties_by_short_name(client, office):
    _tenant, headers = office

    book = open_book(export(client, headers, "620602"))

    rows = rows_as_dicts(book["派单目录"])
    by_code = {row["code"]: row for row in rows}
    leak = by_code["T-GAS-LEAK"]
    assert (leak["parent_code"], leak["lead_unit"], leak["assisting_units"]) == ("T-GAS", "天然气", "建设、市政")
    assert (leak["keywords"], leak["route"], leak["severity"], leak["needs_site_visit"]) == (
        "煤气味、燃气泄漏、天然气味", "公安先期处置", "紧急", "是")
    assert (leak["ack_minutes"], leak["arrive_minutes.urban"], leak["arrive_minutes.suburban"],
            leak["arrive_minutes.rural"]) == (5, 15, None, 60)
    assert by_code["T-RESCUE"]["responsibilities"] == "救援测试.1、救援测试.2"
    assert by_code["T-RESCUE"]["resolve_working_days"] == 5 and by_code["T-THEFT"]["resolve_hours"] == 48
    assert by_code["T-GAS"]["parent_code"] is None and by_code["T-OLD"]["is_active"] == "否"
    codes = [row["code"] for row in rows]
    # Each level-1 category is followed by its children.
    assert codes.index("T-GAS") < codes.index("T-GAS-LEAK") < codes.index("T-RESCUE") < codes.index("T-POLICE")


def test_text_that_looks_like_a_formula_is_exported_as_text(client, office):
    _tenant, headers = office

    book = open_book(export(client, headers, "620602"))

    old = next(row for row in book["派单目录"].iter_rows(min_row=2) if row[0].value == "T-OLD")
    description = next(cell for cell in old if cell.value == "=1+1")
    assert description.data_type == "s"
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)


def test_readers_may_export_and_unit_roles_may_not(client, office, factory):
    tenant, _headers = office
    supervisor = factory.user(None, "provincial_supervisor", province_code="620000")

    for role in ("dispatcher", "leader"):
        export(client, auth(client, factory.user(tenant, role)), "620602")
    export(client, auth(client, supervisor), "620602")
    for role in ("unit_liaison", "unit_leader", "responder"):
        response = client.get("/api/v1/t/620602/catalogue/export.xlsx",
                              headers=auth(client, factory.user(tenant, role)))
        assert_error(response, 403, "forbidden")


def test_another_districts_office_cannot_export(client, office, factory):
    other = factory.tenant("620102", "城关区")
    response = client.get("/api/v1/t/620602/catalogue/export.xlsx",
                          headers=auth(client, factory.user(other, "tenant_admin")))

    assert_error(response, 404, "tenant_not_found")
