"""One import pass: workbook rows through the API's own schemas and services, every problem kept with its cell.

Each row runs in a savepoint of the caller's transaction, so a later row sees the units and
categories of earlier rows, and a refused row leaves nothing behind; the caller commits or
rolls back the whole pass. Rows that depend on a refused row say so instead of "not found".
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import marshmallow as ma
from sqlalchemy import select

from app.blueprints.catalogue import service as catalogue
from app.blueprints.catalogue.models import Category
from app.blueprints.transfer import xlsx
from app.blueprints.transfer.schemas import CategoryRow, ResponsibilityRow, UnitRow
from app.blueprints.units import service as units
from app.blueprints.units.models import CONTACT_FIELDS, Responsibility, Unit
from app.errors import DomainError
from app.extensions import db

UNIT_FIELDS = ("name", "short_name", "duty_class", "kind", *CONTACT_FIELDS, "webhook_url", "sort_order",
               "is_active")
CATEGORY_FIELDS = ("name", "description", "keywords", "route", "severity", "needs_site_visit", "sort_order",
                   "is_active")
TIME_LIMIT_COLUMNS = ("ack_minutes", "arrive_minutes.urban", "arrive_minutes.suburban", "arrive_minutes.rural",
                      "resolve_hours", "resolve_working_days")
# What a blank cell means: the default of a field that has one; required fields stay missing
# (the schema says so); every other field is cleared.
UNIT_BLANKS = {"kind": "linkage", "sort_order": 0, "is_active": True}
CATEGORY_BLANKS = {"description": "", "keywords": [], "route": "direct", "severity": "general",
                   "needs_site_visit": True, "sort_order": 0, "is_active": True}
REQUIRED = {"name", "short_name", "duty_class"}
# Body fields of the API, as the columns of the workbook that carry them.
FIELD_COLUMNS = {"parent_id": "parent_code", "lead_unit_id": "lead_unit", "unit_ids": "lead_unit",
                 "assisting_unit_ids": "assisting_units", "responsibility_ids": "responsibilities"}
MISSING = "Missing data for required field."


@dataclass(frozen=True)
class RowError:
    sheet: str | None
    row: int | None
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "code": self.code,
                "message": self.message}


@dataclass
class UnitJob:
    """A unit the workbook creates or changes: its 单位 row (if any) and its 职责 rows."""

    sheet: str
    row: int
    unit: Unit | None
    values: dict = field(default_factory=dict)
    responsibilities: dict[int, str] = field(default_factory=dict)
    responsibility_rows: dict[int, int] = field(default_factory=dict)   # number -> 职责 row


@dataclass
class CategoryJob:
    row: int
    code: str
    values: dict


def _unit_unchanged(unit: Unit, fields: dict, is_active: bool) -> bool:
    """Whether the row equals what is stored, by the service's own audit snapshot.

    An unchanged row is not sent through the service: like an API client that does not PATCH
    what it did not change, it is neither written nor re-checked (and a re-import stays fast).
    """
    current = units.snapshot(unit)
    wanted = {**current, **{k: v for k, v in fields.items() if k in current}, "is_active": is_active}
    if "responsibilities" in fields:
        wanted["responsibilities"] = [[item["number"], item["text"]]
                                      for item in sorted(fields["responsibilities"], key=lambda i: i["number"])]
    return wanted == current


def _category_unchanged(category: Category, fields: dict, is_active: bool) -> bool:
    current = catalogue.snapshot(category)
    wanted = {**current, **{k: v for k, v in fields.items() if k in current}, "is_active": is_active}
    for key in ("assisting_unit_ids", "responsibility_ids"):
        wanted[key] = sorted(set(wanted[key]))
    return wanted == current


def _flatten(messages, path=()):
    """marshmallow's nested messages as (path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            yield from _flatten(item, path)
    else:
        yield path, str(messages)


class CatalogueImport:
    def __init__(self, *, tenant, actor, sheets: dict[str, xlsx.SheetRows]):
        self.tenant = tenant
        self.actor = actor
        self.sheets = sheets
        self.errors: list[RowError] = []
        self.counts = {"units_created": 0, "units_updated": 0, "categories_created": 0, "categories_updated": 0}
        self.rejected_units: set[str] = set()
        self.rejected_codes: set[str] = set()
        self.bad_rows: set[tuple[str | None, int | None]] = set()
        self.broken_cells: set[tuple[str, int, str]] = set()   # already reported: no "required" on top

    # ------------------------------------------------------------------ plumbing

    def error(self, sheet: str | None, row: int | None, column: str | None, code: str, message: str) -> None:
        self.errors.append(RowError(sheet, row, column, code, message))
        self.bad_rows.add((sheet, row))

    def _usable(self, layout: xlsx.SheetLayout) -> xlsx.SheetRows | None:
        sheet = self.sheets.get(layout.title)
        if sheet is None:
            return None
        for column, code, message in sheet.header_problems:
            self.error(layout.title, xlsx.HEADER_ROW, column, code, message)
        if not any(sheet.has(key) for key in layout.key_columns):
            return None
        return sheet

    def _convert(self, sheet: xlsx.SheetRows, row: int, raw: dict) -> dict:
        values = {}
        for key, value in raw.items():
            if xlsx.is_cell_error(value):
                self.error(sheet.layout.title, row, key, "cell_error",
                           f"The cell holds the error {value.strip()} (a failed formula); type the value.")
                self.broken_cells.add((sheet.layout.title, row, key))
                continue
            values[key] = xlsx.convert(sheet.layout.column(key), value)
        return values

    def _schema_errors(self, sheet: str, row: int, error: ma.ValidationError,
                       layout: xlsx.SheetLayout) -> None:
        for path, message in _flatten(error.messages):
            name = str(path[0]) if path else None
            if name == "time_limits":
                column = ".".join(str(part) for part in path[1:] if isinstance(part, str)) or None
            else:
                column = FIELD_COLUMNS.get(name, name)
            index = next((part for part in path[1:] if isinstance(part, int)), None)
            if index is not None:
                message = f"Item {index + 1}: {message}"
            if (sheet, row, column) in self.broken_cells:
                continue
            code = "required" if message == MISSING else "invalid_value"
            choices = next((c.choices for c in layout.columns if c.key == column and c.choices), None)
            if code == "invalid_value" and choices:
                message = f"{message} In Chinese: {'、'.join(choices.values())}."
            self.error(sheet, row, column, code, message)

    def _attempt(self, sheet: str, row: int, apply: Callable[[], None]) -> bool:
        """Run one row's service calls in a savepoint; a refusal is recorded against the row."""
        try:
            with db.session.begin_nested():
                apply()
        except DomainError as refusal:
            name = next(iter(refusal.errors), None)
            self.error(sheet, row, FIELD_COLUMNS.get(name, name), refusal.code, refusal.message)
            return False
        return True

    # ------------------------------------------------------------------ units and responsibilities

    def run(self) -> None:
        self._units()
        self._categories()

    def _units(self) -> None:
        existing = list(db.session.execute(select(Unit).order_by(Unit.id)).scalars())
        by_name = {unit.name: unit for unit in existing}
        by_short = {unit.short_name: unit for unit in existing}
        jobs: list[UnitJob] = []
        by_key: dict[str, UnitJob] = {}      # the names a unit row gives -> its job
        by_unit: dict[int, UnitJob] = {}     # an existing unit -> the job changing it
        sheet = self._usable(xlsx.UNITS)
        if sheet is not None:
            seen: dict[tuple[str, str], int] = {}
            for row, raw in sheet.rows:
                values = self._convert(sheet, row, raw)
                name, short = values.get("name"), values.get("short_name")
                if name is None and short is None:
                    self.error(sheet.layout.title, row, "name" if sheet.has("name") else "short_name", "required",
                               "A unit row needs its name or short name.")
                    continue
                names = (("name", name), ("short_name", short))
                repeated = next(((key, seen[(key, value)]) for key, value in names
                                 if value is not None and (key, value) in seen), None)
                unit = (by_name.get(name) if name else None) or (by_short.get(short) if short else None)
                if repeated is None and unit is not None and unit.id in by_unit:
                    repeated = ("name" if name else "short_name", by_unit[unit.id].row)
                if repeated is not None:
                    self.error(sheet.layout.title, row, repeated[0], "duplicate_in_file",
                               f"The same unit is already on row {repeated[1]}.")
                    continue
                for key, value in names:
                    if value is not None:
                        seen[(key, value)] = row
                job = UnitJob(sheet.layout.title, row, unit, values)
                jobs.append(job)
                by_key.update({value: job for value in (name, short) if value is not None})
                if unit is not None:
                    by_unit[unit.id] = job
        self._responsibility_rows(jobs, by_key, by_unit, by_name, by_short)
        for job in jobs:
            self._unit(job)

    def _responsibility_rows(self, jobs, by_key, by_unit, by_name, by_short) -> None:
        sheet = self._usable(xlsx.RESPONSIBILITIES)
        if sheet is None:
            return
        title = sheet.layout.title
        for row, raw in sheet.rows:
            values = self._convert(sheet, row, raw)
            try:
                item = ResponsibilityRow().load({key: values[key] for key in ("number", "text")
                                                 if values.get(key) is not None})
            except ma.ValidationError as error:
                self._schema_errors(title, row, error, sheet.layout)
                item = None
            key = values.get("unit")
            job = by_key.get(key) if key else None
            if job is None and key:
                unit = by_short.get(key) or by_name.get(key)
                if unit is not None:
                    job = by_unit.get(unit.id)
                    if job is None:  # a unit of the district that only gets responsibilities
                        job = by_unit[unit.id] = UnitJob(title, row, unit)
                        jobs.append(job)
            if key is None:
                self.error(title, row, "unit", "required", "Name the unit (its short name).")
            elif job is None:
                self.error(title, row, "unit", "unit_not_found",
                           f"No unit {key!r} in this district or the 单位 sheet.")
            elif item is not None and item["number"] in job.responsibilities:
                self.error(title, row, "number", "duplicate_in_file",
                           f"{key} {item['number']}. is already on row {job.responsibility_rows[item['number']]}.")
            elif item is not None:
                job.responsibilities[item["number"]] = item["text"]
                job.responsibility_rows[item["number"]] = row

    def _unit_record(self, job: UnitJob) -> dict:
        record = {name: getattr(job.unit, name) for name in UNIT_FIELDS} if job.unit is not None else {}
        for name in UNIT_FIELDS:
            if name not in job.values:
                continue
            value = job.values[name]
            if value is not None:
                record[name] = value
            elif name in UNIT_BLANKS:
                record[name] = UNIT_BLANKS[name]
            elif name in REQUIRED:
                record.pop(name, None)
            else:
                record[name] = None
        if job.responsibilities:
            merged = {r.number: r.text for r in job.unit.responsibilities} if job.unit is not None else {}
            merged.update(job.responsibilities)
            record["responsibilities"] = [{"number": n, "text": text} for n, text in sorted(merged.items())]
        return record

    def _unit(self, job: UnitJob) -> None:
        try:
            fields = UnitRow().load(self._unit_record(job))
        except ma.ValidationError as error:
            self._schema_errors(job.sheet, job.row, error, xlsx.UNITS)
            fields = None
        if fields is not None and (job.sheet, job.row) not in self.bad_rows:
            is_active = fields.pop("is_active")
            if not job.responsibilities:
                fields.pop("responsibilities")  # the 职责 sheet names none: the list stays as it is

            def apply():
                if job.unit is None:
                    unit = units.create_unit(tenant_id=self.tenant.id, actor=self.actor, commit=False,
                                             responsibilities=fields.pop("responsibilities", []), **fields)
                    if not is_active:
                        units.update_unit(unit_id=unit.id, actor=self.actor, changes={"is_active": False},
                                          commit=False)
                else:
                    units.update_unit(unit_id=job.unit.id, actor=self.actor, commit=False,
                                      changes={**fields, "is_active": is_active})

            if job.unit is not None and _unit_unchanged(job.unit, fields, is_active):
                self.counts["units_updated"] += 1  # matched; as stored, so nothing to write or audit
                return
            if self._attempt(job.sheet, job.row, apply):
                self.counts["units_created" if job.unit is None else "units_updated"] += 1
                return
        self.rejected_units.update(value for value in (job.values.get("name"), job.values.get("short_name"))
                                   if value)
        if job.unit is not None:
            self.rejected_units.update((job.unit.name, job.unit.short_name))

    # ------------------------------------------------------------------ categories

    def _categories(self) -> None:
        sheet = self._usable(xlsx.CATEGORIES)
        if sheet is None:
            return
        self.category_by_code = {c.code: c for c in db.session.execute(select(Category)).scalars()}
        self.code_by_id = {c.id: c.code for c in self.category_by_code.values()}
        self.unit_ids: dict[str, int] = {}
        self.responsibility_ids: dict[tuple[str, int], int] = {}
        for unit in db.session.execute(select(Unit).order_by(Unit.id)).scalars():
            self.unit_ids.setdefault(unit.short_name, unit.id)
            for responsibility in unit.responsibilities:
                self.responsibility_ids.setdefault((unit.short_name, responsibility.number), responsibility.id)
        for unit in db.session.execute(select(Unit).order_by(Unit.id)).scalars():
            self.unit_ids.setdefault(unit.name, unit.id)   # a full name where a short one is expected
            for responsibility in unit.responsibilities:
                self.responsibility_ids.setdefault((unit.name, responsibility.number), responsibility.id)
        jobs: dict[str, CategoryJob] = {}
        for row, raw in sheet.rows:
            values = self._convert(sheet, row, raw)
            code = values.pop("code", None)
            if code is None:
                self.error(sheet.layout.title, row, "code", "required", "A category row needs its code.")
            elif code in jobs:
                self.error(sheet.layout.title, row, "code", "duplicate_in_file",
                           f"Code {code} is already on row {jobs[code].row}.")
            else:
                jobs[code] = CategoryJob(row, code, values)
        depths = {code: self._depth(code, jobs) for code in jobs}
        for job in jobs.values():
            if depths[job.code] is None:
                self.error(sheet.layout.title, job.row, "parent_code", "parent_cycle",
                           "The parent codes go round in a circle.")
                self.rejected_codes.add(job.code)
        for job in sorted((j for j in jobs.values() if depths[j.code] is not None),
                          key=lambda j: (depths[j.code], j.row)):
            self._category(sheet.layout.title, job)

    def _parent_code(self, code: str, jobs: dict[str, CategoryJob]) -> str | None:
        job = jobs.get(code)
        if job is not None and "parent_code" in job.values:
            return job.values["parent_code"]
        category = self.category_by_code.get(code)
        if category is None or category.parent_id is None:
            return None
        return self.code_by_id.get(category.parent_id)

    def _depth(self, code: str, jobs: dict[str, CategoryJob]) -> int | None:
        """How far below a parentless category: parents are created before their children."""
        trail = {code}
        depth, current = 0, code
        while (parent := self._parent_code(current, jobs)) is not None:
            if parent in trail:
                return None
            trail.add(parent)
            depth, current = depth + 1, parent
        return depth

    def _unit_ref(self, sheet: str, row: int, column: str, key: str) -> int | None:
        unit_id = self.unit_ids.get(key)
        if unit_id is None:
            if key in self.rejected_units:
                self.error(sheet, row, column, "unit_row_rejected", f"Unit {key} has problems on its own row.")
            else:
                self.error(sheet, row, column, "unit_not_found", f"No unit {key!r} in this district.")
        return unit_id

    def _responsibility_ref(self, sheet: str, row: int, reference: str) -> int | None:
        unit_key, _, number = reference.replace("．", ".").rpartition(".")
        if not unit_key or not number.strip().isdigit():
            self.error(sheet, row, "responsibilities", "invalid_value",
                       f"{reference!r}: write <unit short name>.<number>, e.g. 民政.2.")
            return None
        found = self.responsibility_ids.get((unit_key.strip(), int(number)))
        if found is None:
            if unit_key.strip() in self.rejected_units:
                self.error(sheet, row, "responsibilities", "unit_row_rejected",
                           f"Unit {unit_key} has problems on its own row.")
            else:
                self.error(sheet, row, "responsibilities", "responsibility_not_found",
                           f"No responsibility {reference} in this district.")
        return found

    def _category_record(self, sheet: str, job: CategoryJob, existing: Category | None) -> dict:
        record = {"code": job.code}
        if existing is not None:
            record.update({name: copy.deepcopy(getattr(existing, name)) for name in CATEGORY_FIELDS},
                          parent_id=existing.parent_id, lead_unit_id=existing.lead_unit_id,
                          assisting_unit_ids=existing.assisting_unit_ids,
                          responsibility_ids=existing.responsibility_ids,
                          time_limits=copy.deepcopy(existing.time_limits or {}))
        values = job.values
        for name in CATEGORY_FIELDS:
            if name in values:
                if values[name] not in (None, []):
                    record[name] = values[name]
                elif name in CATEGORY_BLANKS:
                    record[name] = copy.deepcopy(CATEGORY_BLANKS[name])
                else:
                    record.pop(name, None)
        if "parent_code" in values:
            parent_code = values["parent_code"]
            parent = self.category_by_code.get(parent_code) if parent_code else None
            if parent_code is None:
                record["parent_id"] = None
            elif parent is not None:
                record["parent_id"] = parent.id
            elif parent_code in self.rejected_codes:
                self.error(sheet, job.row, "parent_code", "parent_row_rejected",
                           f"Category {parent_code} has problems on its own row.")
            else:
                self.error(sheet, job.row, "parent_code", "parent_not_found",
                           f"No category {parent_code!r} in this district or the sheet.")
        if "lead_unit" in values:
            lead = values["lead_unit"]
            record["lead_unit_id"] = self._unit_ref(sheet, job.row, "lead_unit", lead) if lead else None
        if "assisting_units" in values:
            record["assisting_unit_ids"] = [unit_id for key in values["assisting_units"]
                                            if (unit_id := self._unit_ref(sheet, job.row, "assisting_units", key))]
        if "responsibilities" in values:
            record["responsibility_ids"] = [rid for reference in values["responsibilities"]
                                            if (rid := self._responsibility_ref(sheet, job.row, reference))]
        limits = record.get("time_limits", {})
        for column in TIME_LIMIT_COLUMNS:
            if column not in values:
                continue
            outer, _, inner = column.partition(".")
            target = limits.setdefault(outer, {}) if inner else limits
            if values[column] is None:
                target.pop(inner or outer, None)
            else:
                target[inner or outer] = values[column]
            if inner and not limits[outer]:
                del limits[outer]
        record["time_limits"] = limits
        return record

    def _category(self, sheet: str, job: CategoryJob) -> None:
        existing = self.category_by_code.get(job.code)
        record = self._category_record(sheet, job, existing)
        try:
            fields = CategoryRow().load(record)
        except ma.ValidationError as error:
            self._schema_errors(sheet, job.row, error, xlsx.CATEGORIES)
            fields = None
        if fields is not None and existing is not None and fields["parent_id"] != existing.parent_id:
            self.error(sheet, job.row, "parent_code", "parent_cannot_change",
                       "A category keeps its parent; as in the API, it cannot be moved by an import.")
        if fields is not None and (sheet, job.row) not in self.bad_rows:
            is_active = fields.pop("is_active")

            def apply():
                if existing is None:
                    category = catalogue.create_category(tenant_id=self.tenant.id, actor=self.actor, commit=False,
                                                         **fields)
                    if not is_active:
                        catalogue.update_category(category_id=category.id, actor=self.actor, commit=False,
                                                  changes={"is_active": False})
                    self.category_by_code[job.code] = category
                else:
                    changes = {key: value for key, value in fields.items() if key not in ("code", "parent_id")}
                    catalogue.update_category(category_id=existing.id, actor=self.actor, commit=False,
                                              changes={**changes, "is_active": is_active})

            if existing is not None and _category_unchanged(existing, fields, is_active):
                self.counts["categories_updated"] += 1
                return
            if self._attempt(sheet, job.row, apply):
                self.counts["categories_created" if existing is None else "categories_updated"] += 1
                return
        self.rejected_codes.add(job.code)
