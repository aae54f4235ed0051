"""Reading and changing a tenant's time-limit policy, and computing an instruction's clocks from it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.blueprints.audit import service as audit
from app.blueprints.catalogue.models import Category, Severity
from app.blueprints.timelimits.deadlines import (Deadlines, InvalidTimeLimits, ScheduledStep, deadlines_for,
                                                 escalation_schedule)
from app.blueprints.timelimits.models import EscalationStep, TimeLimitDefault
from app.blueprints.timelimits.policy import (CLOCK_ORDER, DUTY_CLASS_ORDER, SEVERITY_ORDER, STEP_ORDER, Policy,
                                              Recipient, Step)
from app.blueprints.units.models import DutyClass
from app.common.models import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.tenants.models import Tenant

_LIMIT_FIELDS = ("ack_minutes", "arrive_minutes", "resolve_hours", "resolve_working_days")
_STEP_FIELDS = ("offset_minutes", "recipients", "is_enabled")


def _default_snapshot(row: TimeLimitDefault) -> dict:
    return {"duty_class": row.duty_class, "severity": row.severity,
            **{field: getattr(row, field) for field in _LIMIT_FIELDS}}


def _step_snapshot(row: EscalationStep) -> dict:
    return {"clock": row.clock, "step": row.step, **{field: getattr(row, field) for field in _STEP_FIELDS}}


# ---------------------------------------------------------------- reading

def _defaults(tenant_id: int) -> list[TimeLimitDefault]:
    rows = db.session.execute(
        select(TimeLimitDefault).where(TimeLimitDefault.tenant_id == tenant_id)).scalars().all()
    return sorted(rows, key=lambda r: (DUTY_CLASS_ORDER.index(r.duty_class), SEVERITY_ORDER.index(r.severity)))


def _steps(tenant_id: int) -> list[EscalationStep]:
    rows = db.session.execute(
        select(EscalationStep).where(EscalationStep.tenant_id == tenant_id)).scalars().all()
    return sorted(rows, key=lambda r: (CLOCK_ORDER.index(r.clock), STEP_ORDER.index(r.step)))


def get_policy(*, tenant: Tenant) -> dict:
    """The whole policy of a tenant, as the API shows it."""
    return {"tenant_code": tenant.code, "time_zone": tenant.time_zone,
            "defaults": _defaults(tenant.id), "escalation_steps": _steps(tenant.id)}


def load_policy(*, tenant_id: int) -> Policy:
    """The tenant's policy as plain values, for the deadline arithmetic."""
    limits = {(DutyClass(row.duty_class), Severity(row.severity)): row.limits() for row in _defaults(tenant_id)}
    missing = [f"{duty}/{severity}" for duty in DutyClass for severity in Severity
               if (duty, severity) not in limits]
    if missing:
        # Provisioning and migration 0003 fill every cell; a gap is damaged data, not a request fault.
        raise Conflict("time_limit_policy_incomplete", f"The time-limit policy lacks {', '.join(missing)}.")
    return Policy(limits=limits, steps=tuple(row.rule() for row in _steps(tenant_id)))


# ---------------------------------------------------------------- changing

def update_default(*, time_limit_id: int, actor, changes: dict) -> TimeLimitDefault:
    """Change one cell of the grid. Giving one resolve unit switches the cell to that unit."""
    row = db.session.execute(select(TimeLimitDefault).where(TimeLimitDefault.id == time_limit_id)
                             .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound("time_limit_not_found", "No such time-limit cell.")
    before = _default_snapshot(row)
    if "ack_minutes" in changes:
        row.ack_minutes = changes["ack_minutes"]
    if "arrive_minutes" in changes:
        row.arrive_minutes = changes["arrive_minutes"]
    hours, days = changes.get("resolve_hours"), changes.get("resolve_working_days")
    if hours is not None:
        row.resolve_hours, row.resolve_working_days = hours, None
    elif days is not None:
        row.resolve_hours, row.resolve_working_days = None, days
    else:  # explicit nulls only: clearing a unit without giving the other leaves the cell without one
        if "resolve_hours" in changes:
            row.resolve_hours = None
        if "resolve_working_days" in changes:
            row.resolve_working_days = None
    if (row.resolve_hours is None) == (row.resolve_working_days is None):
        message = "A cell resolves in hours or in working days: give exactly one."
        raise Unprocessable("exactly_one_resolve_limit", message,
                            errors={"resolve_hours": [message], "resolve_working_days": [message]})
    after = _default_snapshot(row)
    if after != before:
        audit.record("time_limit.updated", tenant_id=row.tenant_id, actor=actor, target_type="time_limit_default",
                     target_id=row.id, before=before, after=after)
    db.session.commit()
    return row


def _check_step_order(steps: list[EscalationStep]) -> None:
    """A clock's steps fire in their order: warning < 0 <= yellow < red <= leadership.

    Disabled steps keep their place too, so enabling one later can never break the order.
    """
    offsets = {Step(row.step): row.offset_minutes for row in steps}
    problems = []
    if offsets.get(Step.WARNING, -1) >= 0:
        problems.append("The warning comes before the deadline: a negative offset.")
    if offsets.get(Step.YELLOW, 0) < 0:
        problems.append("The yellow step (催办) comes at the deadline or after: an offset of 0 or more.")
    present = [step for step in STEP_ORDER if step in offsets]
    for earlier, later in zip(present, present[1:]):
        # Leadership may be told together with the red step; the other steps each follow the one before.
        if offsets[later] < offsets[earlier] or (offsets[later] == offsets[earlier]
                                                 and later is not Step.LEADERSHIP):
            problems.append(f"The {later} step must come after the {earlier} step "
                            f"({offsets[later]} vs {offsets[earlier]} minutes).")
    if problems:
        raise Unprocessable("escalation_steps_out_of_order", "The escalation steps would fire out of order.",
                            errors={"offset_minutes": problems})


def update_step(*, escalation_step_id: int, actor, changes: dict) -> EscalationStep:
    """Change one escalation step: its offset, its recipients, or whether it is enabled."""
    row = db.session.execute(select(EscalationStep).where(EscalationStep.id == escalation_step_id)
                             ).scalar_one_or_none()
    if row is None:
        raise NotFound("escalation_step_not_found", "No such escalation step.")
    # Lock the whole clock: two offices editing two steps of it at once could each pass the order check.
    siblings = db.session.execute(select(EscalationStep).where(EscalationStep.tenant_id == row.tenant_id,
                                                               EscalationStep.clock == row.clock)
                                  .order_by(EscalationStep.id).with_for_update()
                                  .execution_options(populate_existing=True)).scalars().all()
    before = _step_snapshot(row)
    if "offset_minutes" in changes:
        row.offset_minutes = changes["offset_minutes"]
    if "recipients" in changes:
        wanted = set(changes["recipients"])
        row.recipients = [r.value for r in Recipient if r.value in wanted]
    if "is_enabled" in changes:
        row.is_enabled = changes["is_enabled"]
    _check_step_order(list(siblings))
    after = _step_snapshot(row)
    if after != before:
        audit.record("escalation_step.updated", tenant_id=row.tenant_id, actor=actor,
                     target_type="escalation_step", target_id=row.id, before=before, after=after)
    db.session.commit()
    return row


# ---------------------------------------------------------------- computing

@dataclass(frozen=True)
class ClockPlan:
    """An instruction's deadlines and the escalation steps that would fire if nothing happened."""

    deadlines: Deadlines
    escalations: list[ScheduledStep]
    needs_site_visit: bool


def _category(category_id: int) -> Category:
    category = db.session.execute(select(Category).where(Category.id == category_id)).scalar_one_or_none()
    if category is None:
        raise Unprocessable("category_not_found", "No such category in this district.",
                            errors={"category_id": ["Unknown category."]})
    return category


def plan_clocks(*, tenant: Tenant, duty_class: str, severity: str, area: str, issued_at: datetime,
                category: Category | None = None, needs_site_visit: bool | None = None) -> ClockPlan:
    """The clocks of one instruction to a unit of `duty_class`, under the tenant's current policy.

    A site visit is needed if the desk says so, else if the category says so; with neither, it is.
    """
    if needs_site_visit is None:
        needs_site_visit = category.needs_site_visit if category is not None else True
    policy = load_policy(tenant_id=tenant.id)
    try:
        deadlines = deadlines_for(issued_at=issued_at, duty_class=duty_class, severity=severity, area=area,
                                  needs_site_visit=needs_site_visit, policy=policy, time_zone=tenant.time_zone,
                                  category_limits=category.time_limits if category is not None else None)
    except InvalidTimeLimits as invalid:
        raise Conflict("category_time_limits_invalid", "The category's time-limit overrides are invalid.",
                       errors=invalid.errors) from None
    escalations = escalation_schedule(deadlines=deadlines, steps=policy.steps, severity=severity,
                                      issued_at=issued_at)
    return ClockPlan(deadlines, escalations, needs_site_visit)


def preview(*, tenant: Tenant, duty_class: str, severity: str, area: str, needs_site_visit: bool | None = None,
            category_id: int | None = None, issued_at: datetime | None = None) -> dict:
    """What the clocks of an instruction issued now (or at `issued_at`) would be. Changes nothing."""
    issued_at = issued_at or utcnow()
    category = _category(category_id) if category_id is not None else None
    plan = plan_clocks(tenant=tenant, duty_class=duty_class, severity=severity, area=area, issued_at=issued_at,
                       category=category, needs_site_visit=needs_site_visit)
    deadlines = plan.deadlines
    return {"duty_class": duty_class, "severity": severity, "area": area,
            "needs_site_visit": plan.needs_site_visit, "category_id": category_id,
            "time_zone": tenant.time_zone, "issued_at": issued_at,
            "acknowledge_by": deadlines.acknowledge_by, "arrive_by": deadlines.arrive_by,
            "resolve_by": deadlines.resolve_by, "calendar_fallback": deadlines.calendar_fallback,
            "limits": deadlines.limits.as_dict(), "escalations": plan.escalations}
