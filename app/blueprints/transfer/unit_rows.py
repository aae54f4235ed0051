"""The 单位 and 职责 sheets: each unit created or changed through `create_unit` / `update_unit`.

A unit row matches a stored unit by name, else short name. 职责 rows add or reword numbered
responsibilities; numbers the sheet does not mention stay, as do their category links.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.transfer import xlsx
from app.blueprints.transfer.importer import ImportRun
from app.blueprints.transfer.schemas import ResponsibilityRow, UnitRow
from app.blueprints.units import service as units
from app.blueprints.units.models import CONTACT_FIELDS, Unit
from app.extensions import db

UNIT_FIELDS = ("name", "short_name", "duty_class", "kind", *CONTACT_FIELDS, "webhook_url", "sort_order",
               "is_active")
# What a blank cell means: the default of a field that has one; a required field stays missing
# (the schema says so); any other field is cleared.
BLANKS = {"kind": "linkage", "sort_order": 0, "is_active": True}
REQUIRED = {"name", "short_name", "duty_class"}


@dataclass
class UnitJob:
    """A unit the workbook creates or changes: its 单位 row (if any) and its 职责 rows."""

    sheet: str
    row: int
    unit: Unit | None
    values: dict = field(default_factory=dict)
    responsibilities: dict[int, str] = field(default_factory=dict)
    responsibility_rows: dict[int, int] = field(default_factory=dict)   # number -> 职责 row


def unit_unchanged(unit: Unit, fields: dict, is_active: bool) -> bool:
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


class UnitSheets:
    def __init__(self, run: ImportRun):
        self.run = run
        existing = list(db.session.execute(select(Unit).order_by(Unit.id).options(selectinload(Unit.responsibilities))).scalars())
        self.by_name = {unit.name: unit for unit in existing}
        self.by_short = {unit.short_name: unit for unit in existing}
        self.jobs: list[UnitJob] = []
        self.by_key: dict[str, UnitJob] = {}     # the names a unit row gives -> its job
        self.by_unit: dict[int, UnitJob] = {}    # a stored unit -> the job changing it

    def apply(self) -> None:
        self._unit_rows()
        self._responsibility_rows()
        for job in self.jobs:
            self._apply(job)

    def _unit_rows(self) -> None:
        run, sheet = self.run, self.run.usable(xlsx.UNITS)
        if sheet is None:
            return
        title = sheet.layout.title
        seen: dict[tuple[str, str], int] = {}
        for row, raw in sheet.rows:
            values = run.convert(sheet, row, raw)
            name, short = values.get("name"), values.get("short_name")
            if name is None and short is None:
                run.error(title, row, "name" if sheet.has("name") else "short_name", "required",
                          "A unit row needs its name or short name.")
                continue
            names = (("name", name), ("short_name", short))
            repeated = next(((key, seen[(key, value)]) for key, value in names
                             if value is not None and (key, value) in seen), None)
            unit = (self.by_name.get(name) if name else None) or (self.by_short.get(short) if short else None)
            if repeated is None and unit is not None and unit.id in self.by_unit:
                repeated = ("name" if name else "short_name", self.by_unit[unit.id].row)
            if repeated is not None:
                run.error(title, row, repeated[0], "duplicate_in_file",
                          f"The same unit is already on row {repeated[1]}.")
                continue
            seen.update({(key, value): row for key, value in names if value is not None})
            job = UnitJob(title, row, unit, values)
            self.jobs.append(job)
            self.by_key.update({value: job for value in (name, short) if value is not None})
            if unit is not None:
                self.by_unit[unit.id] = job

    def _job_for(self, key: str, title: str, row: int) -> UnitJob | None:
        job = self.by_key.get(key)
        if job is None:
            unit = self.by_short.get(key) or self.by_name.get(key)
            if unit is not None:
                job = self.by_unit.get(unit.id)
                if job is None:  # a unit of the district that only gets responsibilities
                    job = self.by_unit[unit.id] = UnitJob(title, row, unit)
                    self.jobs.append(job)
        return job

    def _responsibility_rows(self) -> None:
        run, sheet = self.run, self.run.usable(xlsx.RESPONSIBILITIES)
        if sheet is None:
            return
        title = sheet.layout.title
        for row, raw in sheet.rows:
            values = run.convert(sheet, row, raw)
            try:
                item = ResponsibilityRow().load({key: values[key] for key in ("number", "text")
                                                 if values.get(key) is not None})
            except ma.ValidationError as error:
                run.schema_errors(title, row, error, sheet.layout)
                item = None
            key = values.get("unit")
            job = self._job_for(key, title, row) if key else None
            if key is None:
                run.error(title, row, "unit", "required", "Name the unit (its short name).")
            elif job is None:
                run.error(title, row, "unit", "unit_not_found",
                          f"No unit {key!r} in this district or the 单位 sheet.")
            elif item is not None and item["number"] in job.responsibilities:
                run.error(title, row, "number", "duplicate_in_file",
                          f"{key} {item['number']}. is already on row {job.responsibility_rows[item['number']]}.")
            elif item is not None:
                job.responsibilities[item["number"]] = item["text"]
                job.responsibility_rows[item["number"]] = row

    @staticmethod
    def _record(job: UnitJob) -> dict:
        """The unit as the row wants it: what is stored, with the row's cells laid over it."""
        record = {name: getattr(job.unit, name) for name in UNIT_FIELDS} if job.unit is not None else {}
        for name in UNIT_FIELDS:
            if name not in job.values:
                continue
            value = job.values[name]
            if value is not None:
                record[name] = value
            elif name in BLANKS:
                record[name] = BLANKS[name]
            elif name in REQUIRED:
                record.pop(name, None)
            else:
                record[name] = None
        if job.responsibilities:
            merged = {r.number: r.text for r in job.unit.responsibilities} if job.unit is not None else {}
            merged.update(job.responsibilities)
            record["responsibilities"] = [{"number": n, "text": text} for n, text in sorted(merged.items())]
        return record

    def _apply(self, job: UnitJob) -> None:
        run = self.run
        try:
            fields = UnitRow().load(self._record(job))
        except ma.ValidationError as error:
            run.schema_errors(job.sheet, job.row, error, xlsx.UNITS)
            fields = None
        if fields is not None and not run.is_bad(job.sheet, job.row):
            is_active = fields.pop("is_active")
            if not job.responsibilities:
                fields.pop("responsibilities")  # the 职责 sheet names none: the list stays as it is

            def apply():
                if job.unit is None:
                    unit = units.create_unit(tenant_id=run.tenant.id, actor=run.actor, commit=False,
                                             responsibilities=fields.pop("responsibilities", []), **fields)
                    if not is_active:
                        units.update_unit(unit_id=unit.id, actor=run.actor, changes={"is_active": False},
                                          commit=False)
                else:
                    units.update_unit(unit_id=job.unit.id, actor=run.actor, commit=False,
                                      changes={**fields, "is_active": is_active})

            if job.unit is not None and unit_unchanged(job.unit, fields, is_active):
                run.counts["units_updated"] += 1  # matched; as stored, so nothing to write or audit
                return
            if run.attempt(job.sheet, job.row, apply):
                run.counts["units_created" if job.unit is None else "units_updated"] += 1
                return
        run.rejected_units.update(value for value in (job.values.get("name"), job.values.get("short_name"))
                                  if value)
        if job.unit is not None:
            run.rejected_units.update((job.unit.name, job.unit.short_name))
