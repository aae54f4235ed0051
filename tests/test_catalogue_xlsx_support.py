"""Shared pieces of the catalogue workbook tests: a district with a real catalogue, workbook helpers.

The Liangzhou template is rewritten as its units and categories grow, so nothing here counts
its rows; the catalogue below is added on top under codes (T-...) and unit names of its own.
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from tests.factories import auth

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ("单位", "职责", "派单目录")

# A unit of its own (the template's units are used too: 公安, 建设, 天然气, 民政, 市政).
RESCUE = {"name": "区应急救援测试中心", "short_name": "救援测试", "duty_class": "emergency",
          "duty_phone": "0935-2210000", "leader_name": "王强", "leader_title": "主任 ",  # kept as typed
          "leader_phone": "13909351111", "liaison_name": "李明", "liaison_title": "科长",
          "liaison_phone": "+86-13909352222", "webhook_url": "https://rescue.example.gov.cn/hook",
          "sort_order": 90,
          "responsibilities": [{"number": 1, "text": "负责山地、水域遇险人员的搜救"},
                               {"number": 2, "text": "=HYPERLINK(\"http://evil.example\") 不是公式"}]}
IDLE = {"name": "区停用测试站", "short_name": "停用测试", "duty_class": "other", "sort_order": 91}


def unit_ids(client, headers, code: str) -> dict[str, int]:
    units = client.get(f"/api/v1/t/{code}/units?page_size=200", headers=headers).get_json()
    return {unit["short_name"]: unit["id"] for unit in units}


def responsibility_ids(client, headers, code: str, short_name: str) -> dict[int, int]:
    unit_id = unit_ids(client, headers, code)[short_name]
    unit = client.get(f"/api/v1/t/{code}/units/{unit_id}", headers=headers).get_json()
    return {item["number"]: item["id"] for item in unit["responsibilities"]}


def build_catalogue(client, headers, code: str) -> None:
    """Units, responsibilities and two-level categories with every kind of field, through the API."""
    base = f"/api/v1/t/{code}"
    for body in (RESCUE, IDLE):
        response = client.post(f"{base}/units", headers=headers, json=body)
        assert response.status_code == 201, response.get_json()
    ids = unit_ids(client, headers, code)
    idle = client.patch(f"{base}/units/{ids['停用测试']}", headers=headers, json={"is_active": False})
    assert idle.status_code == 200, idle.get_json()
    rescue_duties = responsibility_ids(client, headers, code, "救援测试")

    def category(body):
        response = client.post(f"{base}/categories", headers=headers, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    gas = category({"code": "T-GAS", "name": "测试燃气", "sort_order": 5, "description": "燃气类"})
    police = category({"code": "T-POLICE", "name": "测试治安", "sort_order": 6})
    category({"code": "T-GAS-LEAK", "name": "燃气泄漏", "parent_id": gas["id"], "lead_unit_id": ids["天然气"],
              "assisting_unit_ids": [ids["市政"], ids["建设"]], "route": "police_first", "severity": "urgent",
              "keywords": ["煤气味", "燃气泄漏", "天然气味"], "description": "管道破裂、燃气泄漏\n第二行",
              "needs_site_visit": True, "sort_order": 1,
              "time_limits": {"ack_minutes": 5, "arrive_minutes": {"urban": 15, "rural": 60}}})
    category({"code": "T-RESCUE", "name": "遇险搜救", "parent_id": gas["id"], "lead_unit_id": ids["救援测试"],
              "responsibility_ids": [rescue_duties[1], rescue_duties[2]], "severity": "major",
              "needs_site_visit": False, "time_limits": {"resolve_working_days": 5}, "sort_order": 2})
    category({"code": "T-THEFT", "name": "盗窃", "parent_id": police["id"], "lead_unit_id": ids["公安"],
              "route": "police", "time_limits": {"resolve_hours": 48}})
    retired = category({"code": "T-OLD", "name": "旧分类", "parent_id": police["id"], "lead_unit_id": ids["民政"],
                        "description": "=1+1"})
    assert client.patch(f"{base}/categories/{retired['id']}", headers=headers,
                        json={"is_active": False}).status_code == 200


@pytest.fixture
def office(client, factory):
    """District 620602 from the Liangzhou template plus the catalogue above; its office's headers."""
    tenant = factory.tenant("620602", "凉州区")
    headers = auth(client, factory.user(tenant, "tenant_admin"))
    build_catalogue(client, headers, tenant.code)
    return tenant, headers


def export(client, headers, code: str) -> bytes:
    response = client.get(f"/api/v1/t/{code}/catalogue/export.xlsx", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    return response.get_data()


def upload(client, headers, code: str, content: bytes, *, filename: str = "catalogue.xlsx",
           dry_run: bool | None = None):
    query = {} if dry_run is None else {"dry_run": "true" if dry_run else "false"}
    return client.post(f"/api/v1/t/{code}/catalogue/import", headers=headers, query_string=query,
                       data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def open_book(content: bytes):
    return load_workbook(io.BytesIO(content))


def save_book(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def column_of(sheet, key: str) -> int:
    """1-based column whose header ends with this machine key."""
    for cell in sheet[1]:
        if isinstance(cell.value, str) and cell.value.split()[-1] == key:
            return cell.column
    raise AssertionError(f"no column {key} in {sheet.title}")


def rows_as_dicts(sheet) -> list[dict]:
    keys = [cell.value.split()[-1] if cell.value else None for cell in sheet[1]]
    return [dict(zip(keys, row)) for row in sheet.iter_rows(min_row=2, values_only=True) if any(row)]


def row_of(sheet, key: str, value) -> int:
    column = column_of(sheet, key)
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, column).value == value:
            return row
    raise AssertionError(f"no row with {key} = {value} in {sheet.title}")


def append_row(sheet, values: dict) -> int:
    row = sheet.max_row + 1
    for key, value in values.items():
        sheet.cell(row, column_of(sheet, key), value)
    return row


def patch_sheet_xml(content: bytes, sheet_index: int, edit) -> bytes:
    """Rewrite one worksheet's XML inside the package (for what openpyxl will not write)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    target = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == target:
                data = edit(data.decode()).encode()
            package.writestr(item, data)
    return out.getvalue()


def catalogue_dump(sql, tenant_id: int) -> dict:
    """A district's units and catalogue by natural keys (names, codes), without ids: comparable across districts."""
    units = {row.short_name: dict(row._mapping) for row in sql(
        "SELECT name, short_name, duty_class, kind, duty_phone, leader_name, leader_title, leader_phone, "
        "liaison_name, liaison_title, liaison_phone, webhook_url, sort_order, is_active "
        "FROM units WHERE tenant_id = :t", t=tenant_id)}
    for row in sql("SELECT u.short_name, r.number, r.text FROM unit_responsibilities r JOIN units u "
                   "ON u.tenant_id = r.tenant_id AND u.id = r.unit_id WHERE r.tenant_id = :t "
                   "ORDER BY u.short_name, r.number", t=tenant_id):
        units[row.short_name].setdefault("responsibilities", []).append((row.number, row.text))
    categories = {row.code: dict(row._mapping) for row in sql(
        "SELECT c.code, p.code AS parent_code, c.name, c.description, c.keywords, lead.short_name AS lead, "
        "c.route, c.severity, c.needs_site_visit, c.time_limits, c.sort_order, c.is_active, "
        "ARRAY(SELECT u.short_name FROM category_assists a JOIN units u ON u.tenant_id = a.tenant_id "
        "      AND u.id = a.unit_id WHERE a.tenant_id = c.tenant_id AND a.category_id = c.id "
        "      ORDER BY 1) AS assisting, "
        "ARRAY(SELECT u.short_name || '.' || r.number FROM category_responsibilities cr "
        "      JOIN unit_responsibilities r ON r.tenant_id = cr.tenant_id AND r.id = cr.responsibility_id "
        "      JOIN units u ON u.tenant_id = r.tenant_id AND u.id = r.unit_id "
        "      WHERE cr.tenant_id = c.tenant_id AND cr.category_id = c.id ORDER BY 1) AS responsibilities "
        "FROM categories c LEFT JOIN categories p ON p.tenant_id = c.tenant_id AND p.id = c.parent_id "
        "LEFT JOIN units lead ON lead.tenant_id = c.tenant_id AND lead.id = c.lead_unit_id "
        "WHERE c.tenant_id = :t", t=tenant_id)}
    return {"units": units, "categories": categories}


def without_audit(snapshot: dict) -> dict:
    return {table: rows for table, rows in snapshot.items() if not re.match(r"audit_", table)}
