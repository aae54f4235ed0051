"""Export and import of a district's units and dispatch catalogue (联动单位与派单目录) as one .xlsx workbook.

The import is all or nothing: every row goes through the API's schemas and services inside one
transaction; any problem rolls it all back (audit events too) and is reported with its sheet,
row and column. It upserts (units by name, else short name; categories by code) and never deletes.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.audit import service as audit
from app.blueprints.catalogue.models import Category
from app.blueprints.transfer import xlsx
from app.blueprints.transfer.category_rows import CategorySheet
from app.blueprints.transfer.importer import ImportRun
from app.blueprints.transfer.unit_rows import UNIT_FIELDS, UnitSheets
from app.blueprints.units.models import Unit
from app.errors import DomainError, Unprocessable
from app.extensions import db

MAX_REPORTED_ERRORS = 1000


class PayloadTooLarge(DomainError):
    status = 413
    default_code = "payload_too_large"
    default_message = "The upload is too large."


class UnsupportedMediaType(DomainError):
    status = 415
    default_code = "unsupported_media_type"
    default_message = "The upload is not of a supported type."


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str          # ASCII, for every client
    display_filename: str  # zh-CN, for clients that read RFC 6266 filename*


# ----------------------------------------------------------------------------- export

def _category_order(categories: list[Category]) -> list[Category]:
    """Each level-1 category followed by its children, as a clerk reads the catalogue."""
    children = defaultdict(list)
    for category in categories:
        if category.parent_id is not None:
            children[category.parent_id].append(category)
    ordered, placed = [], set()
    for category in categories:
        if category.parent_id is None:
            for member in (category, *children[category.id]):
                ordered.append(member)
                placed.add(member.id)
    return ordered + [category for category in categories if category.id not in placed]


def export_catalogue(*, tenant) -> ExportFile:
    """The district's units, their numbered responsibilities and its catalogue, as the import reads them."""
    units = list(db.session.execute(select(Unit).order_by(Unit.sort_order, Unit.id)
                                         .options(selectinload(Unit.responsibilities))).scalars())
    short = {unit.id: unit.short_name for unit in units}
    position = {unit.id: index for index, unit in enumerate(units)}
    references: dict[int, tuple[int, int, str]] = {}  # responsibility id -> sort key and "民政.2"
    unit_rows, responsibility_rows = [], []
    for unit in units:
        unit_rows.append({name: getattr(unit, name) for name in UNIT_FIELDS})
        for responsibility in unit.responsibilities:
            responsibility_rows.append({"unit": unit.short_name, "number": responsibility.number,
                                        "text": responsibility.text})
            references[responsibility.id] = (position[unit.id], responsibility.number,
                                             f"{unit.short_name}.{responsibility.number}")
    categories = list(db.session.execute(select(Category).order_by(Category.sort_order, Category.code)).scalars())
    codes = {category.id: category.code for category in categories}
    category_rows = []
    for category in _category_order(categories):
        limits = category.time_limits or {}
        arrive = limits.get("arrive_minutes") or {}
        category_rows.append({
            "code": category.code, "parent_code": codes.get(category.parent_id), "name": category.name,
            "description": category.description, "keywords": list(category.keywords or []),
            "lead_unit": short.get(category.lead_unit_id),
            "assisting_units": [short[i] for i in sorted(category.assisting_unit_ids, key=position.get)],
            "route": category.route, "severity": category.severity,
            "needs_site_visit": category.needs_site_visit,
            "ack_minutes": limits.get("ack_minutes"), "arrive_minutes.urban": arrive.get("urban"),
            "arrive_minutes.suburban": arrive.get("suburban"), "arrive_minutes.rural": arrive.get("rural"),
            "resolve_hours": limits.get("resolve_hours"),
            "resolve_working_days": limits.get("resolve_working_days"),
            "responsibilities": [ref[2] for ref in sorted(references[i] for i in category.responsibility_ids)],
            "sort_order": category.sort_order, "is_active": category.is_active,
        })
    local_now = datetime.now(UTC).astimezone(ZoneInfo(tenant.time_zone))
    content = xlsx.write_workbook(units=unit_rows, responsibilities=responsibility_rows, categories=category_rows,
                                  readme=_readme(tenant, local_now))
    stamp = local_now.strftime("%Y%m%d")
    return ExportFile(content, f"catalogue-{tenant.code}-{stamp}.xlsx",
                      f"{tenant.name}联动单位与派单目录-{tenant.code}-{stamp}.xlsx")


def _readme(tenant, local_now: datetime) -> list[str]:
    return [
        f"{tenant.name}（{tenant.code}）联动单位与派单目录",
        f"导出时间：{local_now:%Y-%m-%d %H:%M}（{tenant.time_zone}）",
        "",
        "填写说明",
        "1. 表头是“中文名称 英文键”，导入按英文键认列：列可以调换顺序；删去的列在导入时保持原值不变。",
        "2. 单位按“单位名称”匹配（找不到再按“简称”），派单目录按“编码”匹配：匹配到的更新，匹配不到的新增。",
        "3. 导入从不删除：表里没有的单位、职责、分类保持不变。要停用，请把“启用”改为“否”。",
        "4. 职责表每行一条（单位简称、序号、职责内容）。“对应职责”写作“简称.序号”，如“民政.2”。",
        "5. 关键词、协办单位、对应职责之间用顿号（、）或逗号分隔。",
        "6. 是/否列也接受 true/false、1/0。值守类别：应急、值班、其他；单位类型：公安、督查、联动；"
        "处置方式：公安处置、公安先期处置、直接派单；等级：一般、紧急、重特大（也接受英文值）。",
        "7. 空白单元格：可空的项目被清空；有默认值的取默认值（单位类型=联动，处置方式=直接派单，等级=一般，"
        "需到场=是，启用=是，排序=0）；时限列空白表示按本区时限政策。",
        "8. 上级编码为空的是一级分类；二级分类必须有主办单位；已有分类不能通过导入更换上级。",
        "9. 导入先检查全部行：任何一行有错，整个文件都不导入，并列出每个错误的表、行、列。",
        f"10. 文件不超过 {xlsx.MAX_FILE_BYTES // (1024 * 1024)} MB，每个表不超过 {xlsx.MAX_DATA_ROWS} 行。",
    ]


# ----------------------------------------------------------------------------- import

def read_upload(data: bytes) -> dict[str, xlsx.SheetRows]:
    if len(data) > xlsx.MAX_FILE_BYTES:
        raise PayloadTooLarge("file_too_large",
                              f"The workbook is larger than {xlsx.MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        return xlsx.read_workbook(data)
    except xlsx.WorkbookUnreadable:
        raise UnsupportedMediaType("not_xlsx", "The file is not an Excel workbook (.xlsx) that can be opened.",
                                   errors={"file": ["Not a readable .xlsx workbook."]}) from None
    except xlsx.SheetTooLong as error:
        raise PayloadTooLarge("too_many_rows", f"Sheet {error.sheet} has more than {xlsx.MAX_DATA_ROWS} rows; "
                                               "split the import.", errors={"file": [error.sheet]}) from None


def import_catalogue(*, tenant, actor, data: bytes, dry_run: bool = False) -> dict:
    """Validate every row, then apply all of them in one transaction, or none.

    Returns the counts; `*_updated` counts rows matched to an existing unit or category, though
    a row equal to what is stored writes nothing (no audit event). `dry_run` writes nothing.
    """
    sheets = read_upload(data)
    if not sheets:
        raise Unprocessable("import_rejected", "The workbook has none of the sheets 单位, 职责, 派单目录.",
                            errors={"rows": [{"sheet": None, "row": None, "column": None, "code": "no_known_sheet",
                                              "message": "Name the sheets 单位, 职责 and 派单目录."}]})
    run = ImportRun(tenant=tenant, actor=actor, sheets=sheets)
    try:
        UnitSheets(run).apply()
        CategorySheet(run).apply()   # after the units: categories may name units the workbook creates
    except BaseException:
        db.session.rollback()
        raise
    if run.errors:
        db.session.rollback()
        shown = [error.as_dict() for error in run.sorted_errors()[:MAX_REPORTED_ERRORS]]
        more = f" (the first {len(shown)} are listed)" if len(run.errors) > len(shown) else ""
        raise Unprocessable("import_rejected", f"The workbook has {len(run.errors)} problem(s){more}; "
                                               "nothing was imported.", errors={"rows": shown})
    if dry_run:
        db.session.rollback()
        return {"dry_run": True, **run.counts}
    audit.record("catalogue.imported", tenant_id=tenant.id, actor=actor, target_type="tenant",
                 target_id=tenant.code, after={**run.counts, "sheets": sorted(sheets),
                                               "file_sha256": hashlib.sha256(data).hexdigest()})
    db.session.commit()
    return {"dry_run": False, **run.counts}
