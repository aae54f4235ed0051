"""One import pass: its counts and problems, and the plumbing shared by the unit and category sheets.

Each row runs in a savepoint of the caller's transaction, so a later row sees the units and
categories of earlier rows, and a refused row leaves nothing behind; the caller commits or
rolls back the whole pass. Every problem is kept with its sheet, Excel row and column key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import marshmallow as ma

from app.blueprints.transfer import xlsx
from app.errors import DomainError
from app.extensions import db

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


class ImportRun:
    def __init__(self, *, tenant, actor, sheets: dict[str, xlsx.SheetRows]):
        self.tenant = tenant
        self.actor = actor
        self.sheets = sheets
        self.errors: list[RowError] = []
        self.counts = {"units_created": 0, "units_updated": 0, "categories_created": 0, "categories_updated": 0}
        # Names of units and codes of categories whose rows were refused: rows naming them say so.
        self.rejected_units: set[str] = set()
        self.rejected_codes: set[str] = set()
        self.bad_rows: set[tuple[str | None, int | None]] = set()
        self.broken_cells: set[tuple[str, int, str]] = set()   # already reported: no "required" on top

    def error(self, sheet: str | None, row: int | None, column: str | None, code: str, message: str) -> None:
        self.errors.append(RowError(sheet, row, column, code, message))
        self.bad_rows.add((sheet, row))

    def is_bad(self, sheet: str, row: int) -> bool:
        return (sheet, row) in self.bad_rows

    def sorted_errors(self) -> list[RowError]:
        order = {layout.title: index for index, layout in enumerate(xlsx.LAYOUTS)}
        return sorted(self.errors, key=lambda e: (order.get(e.sheet, -1), e.row or 0, e.column or ""))

    def usable(self, layout: xlsx.SheetLayout) -> xlsx.SheetRows | None:
        """The sheet if the workbook has it and its rows can be matched; header problems are reported."""
        sheet = self.sheets.get(layout.title)
        if sheet is None:
            return None
        for column, code, message in sheet.header_problems:
            self.error(layout.title, xlsx.HEADER_ROW, column, code, message)
        if not any(sheet.has(key) for key in layout.key_columns):
            return None
        return sheet

    def convert(self, sheet: xlsx.SheetRows, row: int, raw: dict) -> dict:
        """A row's cells as values; a cell holding a formula's error is reported and left out."""
        values = {}
        for key, value in raw.items():
            if xlsx.is_cell_error(value):
                self.error(sheet.layout.title, row, key, "cell_error",
                           f"The cell holds the error {value.strip()} (a failed formula); type the value.")
                self.broken_cells.add((sheet.layout.title, row, key))
                continue
            values[key] = xlsx.convert(sheet.layout.column(key), value)
        return values

    def schema_errors(self, sheet: str, row: int, error: ma.ValidationError, layout: xlsx.SheetLayout) -> None:
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

    def attempt(self, sheet: str, row: int, apply: Callable[[], None]) -> bool:
        """Run one row's service calls in a savepoint; a refusal is recorded against the row."""
        try:
            with db.session.begin_nested():
                apply()
        except DomainError as refusal:
            name = next(iter(refusal.errors), None)
            self.error(sheet, row, FIELD_COLUMNS.get(name, name), refusal.code, refusal.message)
            return False
        return True
