"""One list helper for every collection endpoint: filter, sort, page (X-Pagination)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db


def sort_clause(model, sort: str, allowed: set[str]):
    """`name` ascending, `-name` descending; only whitelisted columns."""
    column_name = sort.lstrip("-")
    if column_name not in allowed:
        raise ValueError(column_name)
    column = getattr(model, column_name)
    return column.desc() if sort.startswith("-") else column.asc()


def paginate(statement: Select, pagination_parameters, *, tiebreak=None) -> list[Any]:
    """Count, then fetch one page. Tells flask-smorest the count for the X-Pagination header."""
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    pagination_parameters.item_count = total
    if pagination_parameters.first_item >= total:
        return []  # past the last page; also keeps absurd page numbers away from OFFSET
    if tiebreak is not None:
        statement = statement.order_by(tiebreak)
    page = statement.offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)
    return list(db.session.execute(page).unique().scalars())
