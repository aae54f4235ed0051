"""Rules for linkage units: the office manages them, a unit's liaison keeps its contacts current."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.blueprints.audit import service as audit
from app.blueprints.notifications import service as notifications
from app.blueprints.units.models import CONTACT_FIELDS, Responsibility, Unit, UnitContactChange
from app.blueprints.users.models import User
from app.common.listing import paginate
from app.common.models import utcnow
from app.common.roles import Role
from app.database import flush_unique
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.extensions import db

_AUDITED = ("name", "short_name", "duty_class", "kind", "webhook_url", "sort_order", "is_active",
            *CONTACT_FIELDS)


def snapshot(unit: Unit) -> dict:
    data = {field: getattr(unit, field) for field in _AUDITED}
    data["responsibilities"] = [[r.number, r.text] for r in unit.responsibilities]
    return data


def get_unit(*, unit_id: int) -> Unit:
    unit = db.session.execute(select(Unit).where(Unit.id == unit_id)).scalar_one_or_none()
    if unit is None:
        raise NotFound("unit_not_found", "No such unit.")
    return unit


def list_units(*, pagination, duty_class: str | None = None, kind: str | None = None,
               is_active: bool | None = None, q: str | None = None) -> list[Unit]:
    statement = select(Unit).options(selectinload(Unit.responsibilities))  # shown in every row
    if duty_class:
        statement = statement.where(Unit.duty_class == duty_class)
    if kind:
        statement = statement.where(Unit.kind == kind)
    if is_active is not None:
        statement = statement.where(Unit.is_active.is_(is_active))
    if q:
        statement = statement.where(or_(Unit.name.contains(q, autoescape=True),
                                        Unit.short_name.contains(q, autoescape=True)))
    return paginate(statement.order_by(Unit.sort_order, Unit.id), pagination)


def _set_responsibilities(unit: Unit, items: list[dict]) -> None:
    numbers = [item["number"] for item in items]
    if len(numbers) != len(set(numbers)):
        raise Unprocessable("duplicate_responsibility_number", "Each responsibility has its own number.",
                            errors={"responsibilities": ["Numbers repeat."]})
    by_number = {r.number: r for r in unit.responsibilities}
    kept = []
    for item in sorted(items, key=lambda i: i["number"]):
        existing = by_number.get(item["number"])
        if existing is not None:  # keep the row (and the categories that serve it), update its text
            existing.text = item["text"]
            kept.append(existing)
        else:
            kept.append(Responsibility(tenant_id=unit.tenant_id, number=item["number"], text=item["text"]))
    unit.responsibilities = kept


_UNIT_CONFLICTS = {
    "uq_units_tenant_id_name": lambda: Conflict("unit_name_taken", "Another unit has that name.",
                                        errors={"name": ["Already in use."]}),
    "uq_units_tenant_id_short_name": lambda: Conflict("unit_short_name_taken",
                                                      "Another unit has that short name.",
                                              errors={"short_name": ["Already in use."]}),
}


def _flush_unique(unit: Unit) -> None:
    flush_unique(unit, _UNIT_CONFLICTS)


def create_unit(*, tenant_id: int, actor: User, responsibilities: list[dict], commit: bool = True,
                **fields) -> Unit:
    unit = Unit(tenant_id=tenant_id, is_active=True, **fields)
    _set_responsibilities(unit, responsibilities)
    _flush_unique(unit)
    audit.record("unit.created", tenant_id=tenant_id, actor=actor, target_type="unit", target_id=unit.id,
                 after=snapshot(unit))
    if commit:  # False: the caller's unit of work commits (e.g. an import)
        db.session.commit()
    return unit


def update_unit(*, unit_id: int, actor: User, changes: dict, commit: bool = True) -> Unit:
    unit = get_unit(unit_id=unit_id)
    before = snapshot(unit)
    contacts_before = unit.contacts()
    responsibilities = changes.pop("responsibilities", None)
    for field, value in changes.items():
        setattr(unit, field, value)
    if responsibilities is not None:
        _set_responsibilities(unit, responsibilities)
    _flush_unique(unit)
    after = snapshot(unit)
    if after != before:
        # Link and responsibility changes leave the row itself untouched; readers that cache the
        # catalogue (routing suggestions) watch updated_at.
        unit.updated_at = utcnow()
        audit.record("unit.updated", tenant_id=unit.tenant_id, actor=actor, target_type="unit",
                     target_id=unit.id, before=before, after=after)
        _record_contact_change(unit, actor, contacts_before)
    if commit:  # False: the caller's unit of work commits (e.g. an import)
        db.session.commit()
    return unit


def _check_own_unit(actor: User, unit: Unit) -> None:
    if actor.has_role(Role.TENANT_ADMIN):
        return
    if actor.unit_id != unit.id:
        raise Forbidden("not_your_unit", "You may only act for your own unit.")


def update_contacts(*, unit_id: int, actor: User, changes: dict) -> Unit:
    """变动报送: the liaison (or the office) reports new contacts; kept as history, the office is told."""
    unit = get_unit(unit_id=unit_id)
    _check_own_unit(actor, unit)
    before = unit.contacts()
    for field, value in changes.items():
        setattr(unit, field, value)
    if unit.contacts() != before:
        audit.record("unit.contacts_changed", tenant_id=unit.tenant_id, actor=actor, target_type="unit",
                     target_id=unit.id, before=before, after=unit.contacts())
        _record_contact_change(unit, actor, before)
    db.session.commit()
    return unit


def _record_contact_change(unit: Unit, actor: User, before: dict) -> None:
    after = unit.contacts()
    if after == before:
        return
    change = UnitContactChange(tenant_id=unit.tenant_id, unit_id=unit.id, changed_by_user_id=actor.id,
                               before=before, after=after)
    db.session.add(change)
    db.session.flush()
    changed = [field for field in CONTACT_FIELDS if before[field] != after[field]]
    notifications.notify(
        tenant_id=unit.tenant_id, recipients=notifications.office_users(unit.tenant_id),
        kind="unit.contacts_changed", cause=f"contact-change-{change.id}",
        title=f"{unit.name}联系人变动", body="、".join(changed),
        data={"unit_id": unit.id, "change_id": change.id, "changed": changed, "by": actor.display_name})


def contact_history(*, unit_id: int, actor: User, pagination,
                    changed_by_user_id: int | None = None) -> list[UnitContactChange]:
    unit = get_unit(unit_id=unit_id)
    _check_own_unit(actor, unit)
    statement = select(UnitContactChange).where(UnitContactChange.unit_id == unit.id)
    if changed_by_user_id is not None:
        statement = statement.where(UnitContactChange.changed_by_user_id == changed_by_user_id)
    return paginate(statement.order_by(UnitContactChange.changed_at.desc()), pagination,
                    tiebreak=UnitContactChange.id.desc())
