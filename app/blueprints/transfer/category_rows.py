"""The 派单目录 sheet: each category created or changed through `create_category` / `update_category`.

Rows match by code. Parents are applied before their children whatever the row order; units
are named by short name (or name), responsibilities as "民政.2". Runs after the unit sheets,
so a category may name a unit or responsibility the same workbook creates.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.catalogue import service as catalogue
from app.blueprints.catalogue.models import Category
from app.blueprints.transfer import xlsx
from app.blueprints.transfer.importer import ImportRun
from app.blueprints.transfer.schemas import CategoryRow
from app.blueprints.units.models import Unit
from app.extensions import db

FIELDS = ("name", "description", "keywords", "route", "severity", "needs_site_visit", "sort_order", "is_active")
TIME_LIMIT_COLUMNS = ("ack_minutes", "arrive_minutes.urban", "arrive_minutes.suburban", "arrive_minutes.rural",
                      "resolve_hours", "resolve_working_days")
# A blank cell: the field's default; `name` stays missing (required); time limits: no override.
BLANKS = {"description": "", "keywords": [], "route": "direct", "severity": "general",
          "needs_site_visit": True, "sort_order": 0, "is_active": True}


@dataclass
class CategoryJob:
    row: int
    code: str
    values: dict


def category_unchanged(category: Category, fields: dict, is_active: bool) -> bool:
    """Whether the row equals what is stored, by the service's own audit snapshot (see unit_unchanged)."""
    current = catalogue.snapshot(category)
    wanted = {**current, **{k: v for k, v in fields.items() if k in current}, "is_active": is_active}
    for key in ("assisting_unit_ids", "responsibility_ids"):
        wanted[key] = sorted(set(wanted[key]))
    return wanted == current


class CategorySheet:
    def __init__(self, run: ImportRun):
        self.run = run
        self.by_code = {c.code: c for c in db.session.execute(select(Category)).scalars()}
        self.code_by_id = {c.id: c.code for c in self.by_code.values()}
        self.unit_ids: dict[str, int] = {}
        self.responsibility_ids: dict[tuple[str, int], int] = {}
        stored = list(db.session.execute(select(Unit).order_by(Unit.id).options(selectinload(Unit.responsibilities))).scalars())
        # Short names first: a full name is accepted where it names no other unit's short name.
        for unit_key in ("short_name", "name"):
            for unit in stored:
                self.unit_ids.setdefault(getattr(unit, unit_key), unit.id)
                for responsibility in unit.responsibilities:
                    self.responsibility_ids.setdefault((getattr(unit, unit_key), responsibility.number),
                                                       responsibility.id)

    def apply(self) -> None:
        run, sheet = self.run, self.run.usable(xlsx.CATEGORIES)
        if sheet is None:
            return
        title = sheet.layout.title
        jobs: dict[str, CategoryJob] = {}
        for row, raw in sheet.rows:
            values = run.convert(sheet, row, raw)
            code = values.pop("code", None)
            if code is None:
                run.error(title, row, "code", "required", "A category row needs its code.")
            elif code in jobs:
                run.error(title, row, "code", "duplicate_in_file",
                          f"Code {code} is already on row {jobs[code].row}.")
            else:
                jobs[code] = CategoryJob(row, code, values)
        depths = {code: self._depth(code, jobs) for code in jobs}
        for job in jobs.values():
            if depths[job.code] is None:
                run.error(title, job.row, "parent_code", "parent_cycle", "The parent codes go round in a circle.")
                run.rejected_codes.add(job.code)
        for job in sorted((j for j in jobs.values() if depths[j.code] is not None),
                          key=lambda j: (depths[j.code], j.row)):
            self._apply(title, job)

    def _parent_code(self, code: str, jobs: dict[str, CategoryJob]) -> str | None:
        job = jobs.get(code)
        if job is not None and "parent_code" in job.values:
            return job.values["parent_code"]
        category = self.by_code.get(code)
        if category is None or category.parent_id is None:
            return None
        return self.code_by_id.get(category.parent_id)

    def _depth(self, code: str, jobs: dict[str, CategoryJob]) -> int | None:
        """How far below a parentless category (None: in a cycle). Parents are applied first."""
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
            if key in self.run.rejected_units:
                self.run.error(sheet, row, column, "unit_row_rejected", f"Unit {key} has problems on its own row.")
            else:
                self.run.error(sheet, row, column, "unit_not_found", f"No unit {key!r} in this district.")
        return unit_id

    def _responsibility_ref(self, sheet: str, row: int, reference: str) -> int | None:
        unit_key, _, number = reference.replace("．", ".").rpartition(".")
        unit_key = unit_key.strip()
        if not unit_key or not number.strip().isdigit():
            self.run.error(sheet, row, "responsibilities", "invalid_value",
                           f"{reference!r}: write <unit short name>.<number>, e.g. 民政.2.")
            return None
        found = self.responsibility_ids.get((unit_key, int(number)))
        if found is None:
            if unit_key in self.run.rejected_units:
                self.run.error(sheet, row, "responsibilities", "unit_row_rejected",
                               f"Unit {unit_key} has problems on its own row.")
            else:
                self.run.error(sheet, row, "responsibilities", "responsibility_not_found",
                               f"No responsibility {reference} in this district.")
        return found

    def _parent_ref(self, sheet: str, row: int, parent_code: str) -> int | None:
        parent = self.by_code.get(parent_code)
        if parent is not None:
            return parent.id
        if parent_code in self.run.rejected_codes:
            self.run.error(sheet, row, "parent_code", "parent_row_rejected",
                           f"Category {parent_code} has problems on its own row.")
        else:
            self.run.error(sheet, row, "parent_code", "parent_not_found",
                           f"No category {parent_code!r} in this district or the sheet.")
        return None

    def _record(self, sheet: str, job: CategoryJob, existing: Category | None) -> dict:
        """The category as the row wants it, in API body fields: what is stored, the row laid over it.

        A reference that resolves to nothing is reported and left out, so the rest is still checked.
        """
        record = {"code": job.code}
        if existing is not None:
            record.update({name: copy.deepcopy(getattr(existing, name)) for name in FIELDS},
                          parent_id=existing.parent_id, lead_unit_id=existing.lead_unit_id,
                          assisting_unit_ids=existing.assisting_unit_ids,
                          responsibility_ids=existing.responsibility_ids,
                          time_limits=copy.deepcopy(existing.time_limits or {}))
        values = job.values
        for name in FIELDS:
            if name in values:
                if values[name] not in (None, []):
                    record[name] = values[name]
                elif name in BLANKS:
                    record[name] = copy.deepcopy(BLANKS[name])
                else:
                    record.pop(name, None)
        if "parent_code" in values:
            parent_code = values["parent_code"]
            parent_id = self._parent_ref(sheet, job.row, parent_code) if parent_code else None
            if parent_id is not None or not parent_code:
                record["parent_id"] = parent_id
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

    def _apply(self, sheet: str, job: CategoryJob) -> None:
        run = self.run
        existing = self.by_code.get(job.code)
        record = self._record(sheet, job, existing)
        try:
            fields = CategoryRow().load(record)
        except ma.ValidationError as error:
            run.schema_errors(sheet, job.row, error, xlsx.CATEGORIES)
            fields = None
        if fields is not None and existing is not None and fields["parent_id"] != existing.parent_id:
            run.error(sheet, job.row, "parent_code", "parent_cannot_change",
                      "A category keeps its parent; as in the API, an import cannot move it.")
        if fields is not None and not run.is_bad(sheet, job.row):
            is_active = fields.pop("is_active")

            def apply():
                if existing is None:
                    category = catalogue.create_category(tenant_id=run.tenant.id, actor=run.actor, commit=False,
                                                         **fields)
                    if not is_active:
                        catalogue.update_category(category_id=category.id, actor=run.actor, commit=False,
                                                  changes={"is_active": False})
                    self.by_code[job.code] = category
                else:
                    changes = {key: value for key, value in fields.items() if key not in ("code", "parent_id")}
                    catalogue.update_category(category_id=existing.id, actor=run.actor, commit=False,
                                              changes={**changes, "is_active": is_active})

            if existing is not None and category_unchanged(existing, fields, is_active):
                run.counts["categories_updated"] += 1  # matched; as stored, so nothing to write or audit
                return
            if run.attempt(sheet, job.row, apply):
                run.counts["categories_created" if existing is None else "categories_updated"] += 1
                return
        run.rejected_codes.add(job.code)
