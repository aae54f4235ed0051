"""What is not a workbook, or is one built to hurt, is refused by its content, never by its name."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from app.blueprints.transfer.xlsx import MAX_DATA_ROWS
from tests.factories import assert_error, auth, database_snapshot, snapshot_difference
from tests.test_catalogue_xlsx_support import export, patch_sheet_xml, save_book, upload

MB = 1024 * 1024


@pytest.fixture
def office(client, factory):
    """A district with no template: these tests are about the file, not the catalogue."""
    tenant = factory.tenant("620602", "凉州区", template=None)
    return tenant, auth(client, factory.user(tenant, "tenant_admin"))


@pytest.fixture
def unchanged(owner_engine):
    before = database_snapshot(owner_engine)
    yield
    after = database_snapshot(owner_engine)
    assert after == before, snapshot_difference(before, after)


def units_book(rows: int = 1) -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = "单位"
    sheet.append(["单位名称 name", "简称 short_name", "值守类别 duty_class"])
    for n in range(rows):
        sheet.append([f"区测试局{n}", f"测试{n}", "其他"])
    return book


def a_zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("content", [
    b"name,short_name\n\xe5\x8c\xba,x\n",                               # a CSV named .xlsx
    b"",                                                                 # nothing
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,                   # an old .xls (OLE) header
    a_zip(**{"readme.txt": b"not a workbook"}),                          # a zip that is no workbook
], ids=["csv", "empty", "xls", "plain-zip"])
def test_content_that_does_not_open_as_a_workbook_is_415(client, office, unchanged, content):
    _tenant, headers = office

    response = upload(client, headers, "620602", content, filename="catalogue.xlsx")

    body = assert_error(response, 415, "not_xlsx")
    assert "file" in body["errors"]


def test_a_workbook_is_read_whatever_it_is_called(client, office, sql):
    _tenant, headers = office

    response = upload(client, headers, "620602", save_book(units_book()), filename="名单.txt")

    assert response.status_code == 200, response.get_json()
    assert sql("SELECT short_name FROM units")[0][0] == "测试0"


def test_a_json_body_or_a_form_without_the_file_is_refused(client, office, unchanged):
    _tenant, headers = office

    as_json = client.post("/api/v1/t/620602/catalogue/import", headers=headers, json={"file": "x"})
    without_file = client.post("/api/v1/t/620602/catalogue/import", headers=headers,
                               data={"other": "1"}, content_type="multipart/form-data")

    assert_error(as_json, 415, "multipart_required")
    assert "file" in assert_error(without_file, 422, "file_required")["errors"]


@pytest.mark.parametrize("size", [5 * MB + 1, 7 * MB], ids=["just-over", "request-over"])
def test_a_file_over_five_megabytes_is_413(client, office, unchanged, size):
    _tenant, headers = office

    response = upload(client, headers, "620602", b"\0" * size)

    assert_error(response, 413, "file_too_large")


def test_a_sheet_over_the_row_cap_is_413(client, office, unchanged):
    _tenant, headers = office

    assert upload(client, headers, "620602", save_book(units_book(MAX_DATA_ROWS)), dry_run=True).status_code == 200

    response = upload(client, headers, "620602", save_book(units_book(MAX_DATA_ROWS + 1)))

    assert_error(response, 413, "too_many_rows")


def test_a_cell_a_million_rows_down_is_refused_without_reading_a_million_rows(client, office, unchanged):
    _tenant, headers = office
    book = units_book()
    book["单位"].cell(1_000_000, 1, "远处的单元格")

    response = upload(client, headers, "620602", save_book(book))

    assert_error(response, 413, "too_many_rows")


def test_a_huge_dimension_claim_is_ignored(client, office, sql):
    _tenant, headers = office
    content = patch_sheet_xml(save_book(units_book(2)), 1, lambda xml: xml.replace(
        '<dimension ref="A1:C3" />', '<dimension ref="A1:XFD1048576" />'))
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["units_created"] == 2


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client, office, unchanged):
    _tenant, headers = office
    content = a_zip(**{"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * (80 * MB)})
    assert len(content) < MB

    assert_error(upload(client, headers, "620602", content), 415, "not_xlsx")


def test_formulas_give_their_saved_values_never_their_text(client, office, sql):
    _tenant, headers = office
    book = units_book()
    book["单位"]["A2"] = '="区测试" & "局0"'   # Excel saves the computed value next to the formula
    content = patch_sheet_xml(save_book(book), 1, lambda xml: xml.replace(
        '<c r="A2"><f>"区测试" &amp; "局0"</f><v /></c>', '<c r="A2" t="str"><f>"区测试" &amp; "局0"</f><v>区测试局0</v></c>'))
    assert b"<v>\xe5\x8c\xba" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    assert [tuple(row) for row in sql("SELECT name, short_name FROM units")] == [("区测试局0", "测试0")]


def test_a_formula_error_in_a_cell_is_reported_at_that_cell(client, office, unchanged):
    _tenant, headers = office
    content = patch_sheet_xml(save_book(units_book()), 1, lambda xml: xml.replace(
        '<c r="C2" t="inlineStr"><is><t>其他</t></is></c>', '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'))

    response = upload(client, headers, "620602", content)

    rows = assert_error(response, 422, "import_rejected")["errors"]["rows"]
    assert [(p["sheet"], p["row"], p["column"], p["code"]) for p in rows] == [
        ("单位", 2, "duty_class", "cell_error")]


def test_a_workbook_without_any_known_sheet_is_rejected(client, office, unchanged):
    _tenant, headers = office
    book = units_book()
    book["单位"].title = "Sheet1"

    response = upload(client, headers, "620602", save_book(book))

    rows = assert_error(response, 422, "import_rejected")["errors"]["rows"]
    assert [p["code"] for p in rows] == ["no_known_sheet"]


def test_an_exported_empty_district_imports_as_nothing(client, office):
    _tenant, headers = office

    response = upload(client, headers, "620602", export(client, headers, "620602"), dry_run=True)

    assert response.get_json() == {"dry_run": True, "units_created": 0, "units_updated": 0,
                                   "categories_created": 0, "categories_updated": 0}
