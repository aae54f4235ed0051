"""The catalogue workbook (联动单位与派单目录.xlsx): its sheets and columns, and how cells are written and read.

Every header is "<中文> <key>" (e.g. "简称 short_name"): clerks read the Chinese, the import
finds columns by the key, so columns may be reordered or left out. Reading is bounded
(file size, unpacked size, rows, columns) and never trusts the sheet's claimed dimensions.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 60 * 1024 * 1024   # a 5 MB zip can claim gigabytes of XML
MAX_ZIP_MEMBERS = 500
# Per sheet. A district has tens of units and a few hundred categories; a new category takes
# ~15 ms through the services, so the cap also keeps one import well inside a worker's timeout.
MAX_DATA_ROWS = 1000
MAX_SCANNED_ROWS = 20_000              # blank rows included: reading stops here whatever the file claims
MAX_COLUMNS = 60
HEADER_ROW = 1

TRUE_WORDS = {"是", "true", "yes", "y", "1", "启用", "√"}
FALSE_WORDS = {"否", "false", "no", "n", "0", "停用", "×"}
LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")

DUTY_CLASS_LABELS = {"emergency": "应急", "standard": "值班", "other": "其他"}
KIND_LABELS = {"police": "公安", "supervisor": "督查", "linkage": "联动"}
ROUTE_LABELS = {"police": "公安处置", "police_first": "公安先期处置", "direct": "直接派单"}
SEVERITY_LABELS = {"general": "一般", "urgent": "紧急", "major": "重特大"}


class WorkbookUnreadable(Exception):
    """The upload is not an .xlsx workbook openpyxl can open."""


class SheetTooLong(Exception):
    def __init__(self, sheet: str):
        super().__init__(sheet)
        self.sheet = sheet


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"              # text | int | bool | choice | list
    choices: dict[str, str] | None = None  # machine value -> zh-CN label
    width: int = 12
    # Codes and references are looked up, so stray spaces go; stored text is kept exactly as typed
    # (as the API keeps it), so an unchanged export imports as unchanged.
    strip: bool = False

    @property
    def header(self) -> str:
        return f"{self.label} {self.key}"


@dataclass(frozen=True)
class SheetLayout:
    title: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]    # at least one of these must be present

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


UNITS = SheetLayout("单位", (
    Column("name", "单位名称", width=26),
    Column("short_name", "简称", width=10),
    Column("duty_class", "值守类别", "choice", DUTY_CLASS_LABELS, width=10),
    Column("kind", "单位类型", "choice", KIND_LABELS, width=10),
    Column("duty_phone", "值班电话", width=16),
    Column("leader_name", "分管负责人", width=12),
    Column("leader_title", "负责人职务", width=12),
    Column("leader_phone", "负责人电话", width=16),
    Column("liaison_name", "联络员", width=12),
    Column("liaison_title", "联络员职务", width=12),
    Column("liaison_phone", "联络员电话", width=16),
    Column("webhook_url", "推送地址", width=30),
    Column("sort_order", "排序", "int", width=8),
    Column("is_active", "启用", "bool", width=8),
), key_columns=("name", "short_name"))

RESPONSIBILITIES = SheetLayout("职责", (
    Column("unit", "单位简称", width=12, strip=True),
    Column("number", "序号", "int", width=8),
    Column("text", "职责内容", width=80),
), key_columns=("unit",))

CATEGORIES = SheetLayout("派单目录", (
    Column("code", "编码", width=14, strip=True),
    Column("parent_code", "上级编码", width=12, strip=True),
    Column("name", "名称", width=16),
    Column("description", "说明", width=30),
    Column("keywords", "关键词", "list", width=30),
    Column("lead_unit", "主办单位", width=12, strip=True),
    Column("assisting_units", "协办单位", "list", width=20),
    Column("route", "处置方式", "choice", ROUTE_LABELS, width=14),
    Column("severity", "等级", "choice", SEVERITY_LABELS, width=8),
    Column("needs_site_visit", "需到场", "bool", width=8),
    Column("ack_minutes", "签收时限(分钟)", "int", width=10),
    Column("arrive_minutes.urban", "到场时限-城区(分钟)", "int", width=10),
    Column("arrive_minutes.suburban", "到场时限-城郊(分钟)", "int", width=10),
    Column("arrive_minutes.rural", "到场时限-农村(分钟)", "int", width=10),
    Column("resolve_hours", "办结时限(小时)", "int", width=10),
    Column("resolve_working_days", "办结时限(工作日)", "int", width=10),
    Column("responsibilities", "对应职责", "list", width=24),
    Column("sort_order", "排序", "int", width=8),
    Column("is_active", "启用", "bool", width=8),
), key_columns=("code",))

LAYOUTS = (UNITS, RESPONSIBILITIES, CATEGORIES)
README_TITLE = "说明"


# ----------------------------------------------------------------------------- writing

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _cell_value(column: Column, value):
    """A stored value as a clerk reads it: labels for choices, 是/否, lists joined with 、."""
    if value is None:
        return None
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "choice":
        return column.choices.get(value, value)
    if column.kind == "list":
        return "、".join(value) or None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value) or None
    return value


def _add_sheet(book: Workbook, layout: SheetLayout, rows: list[dict]) -> None:
    sheet = book.create_sheet(layout.title)
    for index, column in enumerate(layout.columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, column.header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row_number, row in enumerate(rows, start=HEADER_ROW + 1):
        for index, column in enumerate(layout.columns, start=1):
            cell = sheet.cell(row_number, index)
            cell.value = _cell_value(column, row.get(column.key))
            if isinstance(cell.value, str):
                # Text stays text: "=..." is not a formula, "0935..." keeps its leading zero.
                cell.data_type = "s"
                cell.number_format = "@"
                if column.width >= 24:
                    cell.alignment = _WRAP
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    last = HEADER_ROW + MAX_DATA_ROWS
    for index, column in enumerate(layout.columns, start=1):
        if column.kind in ("bool", "choice"):
            words = ["是", "否"] if column.kind == "bool" else list(column.choices.values())
            # A warning, not a stop: the import also accepts true/false and the machine values.
            validation = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True,
                                        errorStyle="warning", showErrorMessage=True)
            sheet.add_data_validation(validation)
            letter = get_column_letter(index)
            validation.add(f"{letter}{HEADER_ROW + 1}:{letter}{last}")


def _add_readme(book: Workbook, lines: list[str]) -> None:
    sheet = book.create_sheet(README_TITLE)
    sheet.column_dimensions["A"].width = 110
    for row_number, line in enumerate(lines, start=1):
        cell = sheet.cell(row_number, 1, ILLEGAL_CHARACTERS_RE.sub("", line))
        cell.data_type = "s"
    sheet["A1"].font = _HEADER_FONT


def write_workbook(*, units: list[dict], responsibilities: list[dict], categories: list[dict],
                   readme: list[str]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    _add_sheet(book, UNITS, units)
    _add_sheet(book, RESPONSIBILITIES, responsibilities)
    _add_sheet(book, CATEGORIES, categories)
    _add_readme(book, readme)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- reading

@dataclass
class SheetRows:
    """One known sheet of an upload: which column holds which key, and its non-empty data rows."""

    layout: SheetLayout
    columns: dict[str, int] = field(default_factory=dict)         # key -> 0-based position
    header_problems: list[tuple[str | None, str, str]] = field(default_factory=list)  # (key, code, message)
    rows: list[tuple[int, dict]] = field(default_factory=list)    # (Excel row number, {key: raw value})

    def has(self, key: str) -> bool:
        return key in self.columns


def _check_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise WorkbookUnreadable(str(error)) from None
    if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise WorkbookUnreadable("the archive unpacks to more than an .xlsx of this size can hold")


def _key_of(header) -> str | None:
    if not isinstance(header, str):
        return None
    token = header.split()[-1] if header.split() else ""
    return token if _KEY.match(token) else None


def _read_header(sheet_rows: SheetRows, header: tuple) -> None:
    layout = sheet_rows.layout
    known = {column.key for column in layout.columns}
    by_label = {column.label: column.key for column in layout.columns}
    for position, raw in enumerate(header):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        text = str(raw).strip()
        key = _key_of(text) or by_label.get(text)
        if key not in known:
            sheet_rows.header_problems.append((None, "unknown_column", (
                f"Column {get_column_letter(position + 1)} ({text!r}) is not a column of this sheet; "
                f"headers end with one of: {', '.join(sorted(known))}.")))
        elif key in sheet_rows.columns:
            sheet_rows.header_problems.append((key, "duplicate_column", (
                f"Column {get_column_letter(position + 1)} repeats {key!r}.")))
        else:
            sheet_rows.columns[key] = position
    if not any(key in sheet_rows.columns for key in layout.key_columns):
        sheet_rows.header_problems.append((layout.key_columns[0], "missing_column", (
            f"The sheet needs a column {' or '.join(layout.key_columns)} to match rows.")))


def _read_sheet(worksheet, layout: SheetLayout) -> SheetRows:
    sheet_rows = SheetRows(layout)
    # The <dimension> a file claims may be absurd (XFD1048576): never size anything by it.
    worksheet.reset_dimensions()
    last_row = HEADER_ROW + MAX_DATA_ROWS
    for row_number, values in enumerate(
            worksheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
        if row_number == HEADER_ROW:
            _read_header(sheet_rows, values)
            continue
        if row_number > MAX_SCANNED_ROWS:  # formatted blank rows far below the data, or a row-number bomb
            raise SheetTooLong(layout.title)
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue
        if row_number > last_row:
            raise SheetTooLong(layout.title)
        sheet_rows.rows.append((row_number, {key: values[position]
                                             for key, position in sheet_rows.columns.items()}))
    return sheet_rows


def read_workbook(data: bytes) -> dict[str, SheetRows]:
    """The known sheets of an uploaded workbook, by title. Other sheets (说明, notes) are ignored.

    Raises WorkbookUnreadable when openpyxl cannot open it, SheetTooLong past MAX_DATA_ROWS.
    """
    _check_archive(data)
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl fails in many ways on foreign content; all mean "not an xlsx"
        raise WorkbookUnreadable(str(error)) from None
    try:
        by_title = {title.strip(): title for title in book.sheetnames}
        found = {}
        for layout in LAYOUTS:
            if layout.title in by_title:
                try:
                    found[layout.title] = _read_sheet(book[by_title[layout.title]], layout)
                except SheetTooLong:
                    raise
                except Exception as error:  # broken sheet XML surfaces only while rows are read
                    raise WorkbookUnreadable(str(error)) from None
        return found
    finally:
        book.close()


# ----------------------------------------------------------------------------- cells to values

def is_cell_error(value) -> bool:
    """A formula's cached error (#REF!, #N/A...): the clerk must fix the cell, not import the error."""
    return isinstance(value, str) and value.strip() in ERROR_CODES


def to_text(value, *, strip: bool = True) -> str | None:
    """Text of a cell; None for a blank one (whitespace only counts as blank)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 13909350000 typed as a number
    text = str(value)
    if not text.strip():
        return None
    return text.strip() if strip else text


def to_int(value):
    """An integer, or the raw value for the schema to refuse ("Not a valid integer.")."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d{1,18}", text):
            return int(text)
        return text or None
    return value


def to_bool(value):
    """是/否, true/false, 1/0 (and Excel's own TRUE/FALSE), or the raw value for the schema to refuse."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    return text


def to_choice(column: Column, value):
    """The machine value for a zh-CN label or the machine value itself; else the raw text to refuse."""
    text = to_text(value)
    if text is None:
        return None
    for machine, label in column.choices.items():
        if text == label or text.lower() == machine:
            return machine
    return text


def to_list(value) -> list[str]:
    text = to_text(value)
    if text is None:
        return []
    return [item.strip() for item in LIST_SEPARATORS.split(text) if item.strip()]


def convert(column: Column, value):
    if column.kind == "int":
        return to_int(value)
    if column.kind == "bool":
        return to_bool(value)
    if column.kind == "choice":
        return to_choice(column, value)
    if column.kind == "list":
        return to_list(value)
    return to_text(value, strip=column.strip)
