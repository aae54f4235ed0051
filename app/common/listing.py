"""One list helper for every collection endpoint: filter, sort, page (X-Pagination).

A list with a bounded count (`count_limit`: incidents, inboxes) gets its first page and its count in one
statement. Other lists fetch the first page before counting: when it is not full it is the only page, so
its total is known without a count (small lists: one query instead of two). Otherwise the rows are counted:
all of them, or with `count_limit` at most `max(count_limit, first_item + page_size) + 1` of them, so
that the cost of a page no longer grows with the whole result (a million incidents, a search term
matching 125k). A count that reaches that bound is a lower bound: `X-Pagination` then says
`"total_is_lower_bound": true` (on blueprints made with `PagedBlueprint`), and `total`, `total_pages`
and `last_page` are lower bounds while `next_page` stays exact. Smaller results page exactly as before.
"""
from __future__ import annotations

import json
from typing import Any

import flask_smorest
from sqlalchemy import Select, func, select

from app.extensions import db

# Lists that opt in count at most this many rows beyond the page (docs/api.md, "Lists").
COUNT_LIMIT = 1000
_MAX_BIGINT = 2**63 - 1


def sort_clause(model, sort: str, allowed: set[str]):
    """`name` ascending, `-name` descending; only whitelisted columns."""
    column_name = sort.lstrip("-")
    if column_name not in allowed:
        raise ValueError(column_name)
    column = getattr(model, column_name)
    return column.desc() if sort.startswith("-") else column.asc()


def _count(statement: Select, limit: int | None) -> int:
    statement = statement.order_by(None)
    if limit is not None:
        # The scan stops at `limit` rows (PostgreSQL drops the subquery's unused columns).
        statement = statement.limit(limit)
    return db.session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()


def paginate(statement: Select, pagination_parameters, *, tiebreak=None, count_limit: int | None = None,
             total_in_page: bool = False) -> list[Any]:
    """One page of `statement`, and its total for flask-smorest's X-Pagination header.

    `count_limit`: count at most `max(count_limit, first_item + page_size) + 1` rows; a total that
    reaches it is reported as a lower bound (see the module's docstring).
    `total_in_page`: the first page carries the exact total as `count(*) OVER ()`, so no second query.
    Only for statements whose order already makes PostgreSQL read every match (a sort of computed keys,
    as the board's): for an index walk that stops after one page it would read the whole result."""
    first, size = pagination_parameters.first_item, pagination_parameters.page_size
    ordered = statement.order_by(tiebreak) if tiebreak is not None else statement
    # (An absurd page number must not make the LIMIT itself overflow PostgreSQL's bigint.)
    bound = None if count_limit is None else min(max(count_limit, first + size) + 1, _MAX_BIGINT)

    def page() -> list[Any]:
        return list(db.session.execute(ordered.offset(first).limit(size)).unique().scalars())

    def count() -> int:
        total = _count(statement, bound)
        pagination_parameters.item_count = total
        if bound is not None and total >= bound:
            pagination_parameters.total_is_lower_bound = True
        return total

    if first == 0 and total_in_page:
        return _page_with_total(ordered.add_columns(func.count().over().label("_total")).limit(size),
                                pagination_parameters)
    if first == 0 and bound is not None:
        # The bounded count rides along as an uncorrelated subquery (evaluated once): the first page of a
        # big list costs one statement, not two, for the same work in PostgreSQL.
        counted = select(func.count()).select_from(statement.order_by(None).limit(bound).subquery())
        rows = _page_with_total(ordered.add_columns(counted.scalar_subquery().label("_total")).limit(size),
                                pagination_parameters)
        if pagination_parameters.item_count >= bound:
            pagination_parameters.total_is_lower_bound = True
        return rows
    if first == 0:
        rows = page()
        if len(rows) < size:
            pagination_parameters.item_count = len(rows)  # the only page: the total is exact, no count
        else:
            count()
        return rows
    # Later pages count first: a page past the end is answered without sending an absurd OFFSET.
    if first >= count():
        return []
    return page()


def _page_with_total(statement: Select, pagination_parameters) -> list[Any]:
    """Rows of (entity, total): the entities, and the total set on the pagination parameters."""
    pairs = list(db.session.execute(statement).unique().all())
    pagination_parameters.item_count = pairs[0][1] if pairs else 0
    return [pair[0] for pair in pairs]


class PagedBlueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose X-Pagination says when `total` is a lower bound (`count_limit`)."""

    def _set_pagination_metadata(self, page_params, result, headers):
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        if getattr(page_params, "total_is_lower_bound", False):
            metadata = json.loads(headers[self.PAGINATION_HEADER_NAME])
            metadata["total_is_lower_bound"] = True
            headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)
        return result, headers
