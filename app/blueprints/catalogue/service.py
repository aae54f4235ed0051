"""Rules for the dispatch catalogue: two levels, units of this district only, routes that make sense."""
from __future__ import annotations

from sqlalchemy import any_, literal, or_, select

from app.blueprints.audit import service as audit
from app.blueprints.catalogue.models import Category, CategoryAssist, CategoryResponsibility, Route
from app.blueprints.units.models import Responsibility, Unit, UnitKind
from app.blueprints.users.models import User
from app.common.listing import paginate
from app.common.models import utcnow
from app.database import flush_unique
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db

_AUDITED = ("parent_id", "code", "name", "description", "keywords", "lead_unit_id", "route", "severity",
            "needs_site_visit", "time_limits", "sort_order", "is_active")


def snapshot(category: Category) -> dict:
    data = {field: getattr(category, field) for field in _AUDITED}
    data["assisting_unit_ids"] = category.assisting_unit_ids
    data["responsibility_ids"] = category.responsibility_ids
    return data


def get_category(*, category_id: int) -> Category:
    category = db.session.execute(select(Category).where(Category.id == category_id)).scalar_one_or_none()
    if category is None:
        raise NotFound("category_not_found", "No such category.")
    return category


def list_categories(*, pagination, level: int | None = None, parent_id: int | None = None,
                    lead_unit_id: int | None = None, unit_id: int | None = None, route: str | None = None,
                    severity: str | None = None, is_active: bool | None = None,
                    q: str | None = None) -> list[Category]:
    statement = select(Category)
    if level == 1:
        statement = statement.where(Category.parent_id.is_(None))
    elif level == 2:
        statement = statement.where(Category.parent_id.is_not(None))
    if parent_id is not None:
        statement = statement.where(Category.parent_id == parent_id)
    if lead_unit_id is not None:
        statement = statement.where(Category.lead_unit_id == lead_unit_id)
    if unit_id is not None:
        assisted = select(CategoryAssist.category_id).where(CategoryAssist.unit_id == unit_id)
        statement = statement.where(or_(Category.lead_unit_id == unit_id, Category.id.in_(assisted)))
    if route:
        statement = statement.where(Category.route == route)
    if severity:
        statement = statement.where(Category.severity == severity)
    if is_active is not None:
        statement = statement.where(Category.is_active.is_(is_active))
    if q:
        statement = statement.where(or_(Category.code.contains(q, autoescape=True),
                                        Category.name.contains(q, autoescape=True),
                                        literal(q) == any_(Category.keywords)))
    return paginate(statement.order_by(Category.sort_order, Category.code), pagination)


def _units(unit_ids: set[int]) -> dict[int, Unit]:
    if not unit_ids:
        return {}
    found = {unit.id: unit for unit in db.session.execute(
        select(Unit).where(Unit.id.in_(unit_ids))).scalars()}
    missing = unit_ids - set(found)
    if missing:
        # Another tenant's unit is invisible here, so it is reported exactly like a missing one.
        raise Unprocessable("unit_not_found", "No such unit in this district.",
                            errors={"unit_ids": [f"Unknown unit {unit_id}." for unit_id in sorted(missing)]})
    return found


def _check_and_link(category: Category, *, assisting_unit_ids: list[int] | None,
                    responsibility_ids: list[int] | None) -> None:
    """The rules a category must satisfy, checked after every create or change."""
    # Nothing is flushed while checking: an unchecked foreign id would fail as a database error.
    with db.session.no_autoflush:
        _check_rules(category)
        _link(category, assisting_unit_ids=assisting_unit_ids, responsibility_ids=responsibility_ids)


def _check_rules(category: Category) -> None:
    if category.parent_id is not None:
        if category.parent_id == category.id:
            raise Unprocessable("too_deep", "A category cannot be its own parent.",
                                errors={"parent_id": ["Its own id."]})
        parent = get_category_or_422(category.parent_id)
        if parent.parent_id is not None:
            raise Unprocessable("too_deep", "The catalogue has two levels: a parent must be a level-1 category.",
                                errors={"parent_id": ["Not a level-1 category."]})
        if category.id is not None and db.session.execute(
                select(Category.id).where(Category.parent_id == category.id).limit(1)).first() is not None:
            raise Unprocessable("has_children", "A category with children stays at level 1.",
                                errors={"parent_id": ["This category has children."]})
        if category.lead_unit_id is None:
            raise Unprocessable("lead_unit_required", "A level-2 category needs a lead unit (主办).",
                                errors={"lead_unit_id": ["Required for level-2 categories."]})


def _link(category: Category, *, assisting_unit_ids: list[int] | None,
          responsibility_ids: list[int] | None) -> None:
    assists = set(assisting_unit_ids if assisting_unit_ids is not None else category.assisting_unit_ids)
    units = _units(assists | ({category.lead_unit_id} if category.lead_unit_id else set()))
    if category.lead_unit_id in assists:
        raise Unprocessable("lead_also_assisting", "The lead unit cannot also be an assisting unit.",
                            errors={"assisting_unit_ids": ["Contains the lead unit."]})
    lead = units.get(category.lead_unit_id)
    if category.route == Route.POLICE and lead is not None and lead.kind != UnitKind.POLICE:
        raise Unprocessable("police_route_needs_police_unit",
                            "A `police` category is led by the police unit (seed Article 8).",
                            errors={"lead_unit_id": ["Not the police unit."]})
    if assisting_unit_ids is not None:
        kept = [link for link in category.assists if link.unit_id in assists]
        have = {link.unit_id for link in kept}
        category.assists = kept + [CategoryAssist(tenant_id=category.tenant_id, unit_id=unit_id)
                                   for unit_id in sorted(assists - have)]
    if responsibility_ids is not None:
        wanted = set(responsibility_ids)
        found = set(db.session.execute(
            select(Responsibility.id).where(Responsibility.id.in_(wanted))).scalars()) if wanted else set()
        if wanted - found:
            raise Unprocessable("responsibility_not_found", "No such responsibility in this district.",
                                errors={"responsibility_ids": [f"Unknown {i}." for i in sorted(wanted - found)]})
        kept = [link for link in category.served if link.responsibility_id in wanted]
        have = {link.responsibility_id for link in kept}
        category.served = kept + [CategoryResponsibility(tenant_id=category.tenant_id, responsibility_id=rid)
                                  for rid in sorted(wanted - have)]


def get_category_or_422(category_id: int) -> Category:
    category = db.session.execute(select(Category).where(Category.id == category_id)).scalar_one_or_none()
    if category is None:
        raise Unprocessable("parent_not_found", "No such parent category in this district.",
                            errors={"parent_id": ["Unknown category."]})
    return category


_CATEGORY_CONFLICTS = {
    "uq_categories_tenant_id_code": lambda: Conflict("category_code_taken", "Another category has that code.",
                                             errors={"code": ["Already in use."]}),
    "uq_categories_tenant_id_parent_id_name": lambda: Conflict(
        "category_name_taken", "Another category under the same parent has that name.",
        errors={"name": ["Already in use."]}),
}


def _flush_unique(category: Category) -> None:
    flush_unique(category, _CATEGORY_CONFLICTS)


def create_category(*, tenant_id: int, actor: User, assisting_unit_ids: list[int] | None = None,
                    responsibility_ids: list[int] | None = None, commit: bool = True, **fields) -> Category:
    category = Category(tenant_id=tenant_id, is_active=True, **fields)
    _check_and_link(category, assisting_unit_ids=assisting_unit_ids or [],
                    responsibility_ids=responsibility_ids or [])
    _flush_unique(category)
    audit.record("category.created", tenant_id=tenant_id, actor=actor, target_type="category",
                 target_id=category.id, after=snapshot(category))
    if commit:  # False: the caller's unit of work commits (e.g. an import)
        db.session.commit()
    return category


def update_category(*, category_id: int, actor: User, changes: dict, commit: bool = True) -> Category:
    category = get_category(category_id=category_id)
    before = snapshot(category)
    assisting = changes.pop("assisting_unit_ids", None)
    responsibilities = changes.pop("responsibility_ids", None)
    for field, value in changes.items():
        setattr(category, field, value)
    _check_and_link(category, assisting_unit_ids=assisting, responsibility_ids=responsibilities)
    _flush_unique(category)
    after = snapshot(category)
    if after != before:
        # Link and responsibility changes leave the row itself untouched; readers that cache the
        # catalogue (routing suggestions) watch updated_at.
        category.updated_at = utcnow()
        audit.record("category.updated", tenant_id=category.tenant_id, actor=actor, target_type="category",
                     target_id=category.id, before=before, after=after)
    if commit:  # False: the caller's unit of work commits (e.g. an import)
        db.session.commit()
    return category
