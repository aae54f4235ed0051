"""Bodies of the catalogue transfer, and the row schemas: the API's own create schemas plus `is_active`."""
from __future__ import annotations

import marshmallow as ma

from app.blueprints.catalogue.schemas import CategoryCreateIn
from app.blueprints.units.schemas import ResponsibilityIn, UnitCreateIn


class UnitRow(UnitCreateIn):
    """One row of the 单位 sheet, validated exactly as `POST /units` validates a body."""

    is_active = ma.fields.Boolean(load_default=True)


class ResponsibilityRow(ResponsibilityIn):
    """One row of the 职责 sheet (its unit is resolved separately)."""


class CategoryRow(CategoryCreateIn):
    """One row of the 派单目录 sheet, after its codes and short names are resolved to ids."""

    is_active = ma.fields.Boolean(load_default=True)


class ImportArgs(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "Validate and count, write nothing"})


class ImportResultOut(ma.Schema):
    dry_run = ma.fields.Boolean(metadata={"description": "True: nothing was written"})
    units_created = ma.fields.Integer()
    units_updated = ma.fields.Integer(metadata={"description": "Rows matched to an existing unit, "
                                                               "whether or not a value changed"})
    categories_created = ma.fields.Integer()
    categories_updated = ma.fields.Integer(metadata={"description": "Rows matched to an existing category, "
                                                                    "whether or not a value changed"})


class RowErrorOut(ma.Schema):
    """One problem of an import, under `errors.rows` of the 422 `import_rejected` body."""

    sheet = ma.fields.String(metadata={"description": "单位, 职责 or 派单目录"})
    row = ma.fields.Integer(allow_none=True, metadata={"description": "Excel row number (1 = headers)"})
    column = ma.fields.String(allow_none=True, metadata={"description": "Column key, e.g. `lead_unit`"})
    code = ma.fields.String(metadata={"description": "Machine code, e.g. `unit_not_found`"})
    message = ma.fields.String()
