"""The policy every new tenant starts with. docs/time-limits.md gives the source of each number."""
from __future__ import annotations

from app.blueprints.catalogue.models import Severity
from app.blueprints.timelimits.models import EscalationStep, TimeLimitDefault
from app.blueprints.timelimits.policy import AreaType, Clock, Limits, Policy, Recipient, Step, StepRule
from app.blueprints.units.models import DutyClass
from app.extensions import db

E, S, O = DutyClass.EMERGENCY, DutyClass.STANDARD, DutyClass.OTHER
GENERAL, URGENT, MAJOR = Severity.GENERAL, Severity.URGENT, Severity.MAJOR

# (duty class, severity) -> (ack minutes, (arrive urban, suburban, rural minutes),
#                            resolve hours, resolve working days)
DEFAULT_LIMITS: dict[tuple[DutyClass, Severity], tuple[int, tuple[int, int, int], int | None, int | None]] = {
    # 24-hour teams (police, medical, power, water, gas, municipal repair): feedback at once,
    # arrival by the State Grid repair pledge (45 min urban, 90 rural), resolution in hours.
    (E, GENERAL): (10, (45, 60, 90), 24, None),
    (E, URGENT): (5, (30, 45, 60), 8, None),
    (E, MAJOR): (5, (20, 30, 45), 4, None),
    # A phone on duty, people sent on instruction: phone-handover feedback in 20 minutes (10 for
    # major), resolution in working days as the 12345 hotlines count them; major ones in hours.
    (S, GENERAL): (20, (60, 90, 120), None, 5),
    (S, URGENT): (15, (45, 60, 90), None, 3),
    (S, MAJOR): (10, (30, 45, 60), 24, None),
    # No watch kept: a little longer to answer and to get there.
    (O, GENERAL): (30, (90, 120, 180), None, 5),
    (O, URGENT): (20, (60, 90, 120), None, 3),
    (O, MAJOR): (10, (30, 45, 60), 24, None),
}

_UNIT_ON_WATCH = (Recipient.LIAISON, Recipient.ON_DUTY)
_SUPERVISION = (Recipient.UNIT_LEADER, Recipient.OFFICE)
_LEADERSHIP = (Recipient.LEADERSHIP,)

# (clock, step) -> (offset minutes from the deadline, recipients). Resolve offsets are chosen
# for working-day deadlines, which fall at local midnight: the warning at 16:00 of the last
# day, the red step at 08:00 the morning after, leadership at 16:00 that day.
DEFAULT_STEPS: dict[tuple[Clock, Step], tuple[int, tuple[Recipient, ...]]] = {
    (Clock.ACKNOWLEDGE, Step.WARNING): (-5, _UNIT_ON_WATCH),
    (Clock.ACKNOWLEDGE, Step.YELLOW): (0, _UNIT_ON_WATCH),
    (Clock.ACKNOWLEDGE, Step.RED): (15, _SUPERVISION),
    (Clock.ACKNOWLEDGE, Step.LEADERSHIP): (30, _LEADERSHIP),
    (Clock.ARRIVE, Step.WARNING): (-10, _UNIT_ON_WATCH),
    (Clock.ARRIVE, Step.YELLOW): (0, _UNIT_ON_WATCH),
    (Clock.ARRIVE, Step.RED): (15, _SUPERVISION),
    (Clock.ARRIVE, Step.LEADERSHIP): (30, _LEADERSHIP),
    (Clock.RESOLVE, Step.WARNING): (-8 * 60, _UNIT_ON_WATCH),
    (Clock.RESOLVE, Step.YELLOW): (0, _UNIT_ON_WATCH),
    (Clock.RESOLVE, Step.RED): (8 * 60, _SUPERVISION),
    (Clock.RESOLVE, Step.LEADERSHIP): (16 * 60, _LEADERSHIP),
}


def default_policy() -> Policy:
    """The defaults as plain values, as `service.load_policy` gives a freshly provisioned tenant's."""
    limits = {key: Limits(ack_minutes=ack, arrive_minutes=dict(zip(AreaType, arrive)), resolve_hours=hours,
                          resolve_working_days=days)
              for key, (ack, arrive, hours, days) in DEFAULT_LIMITS.items()}
    steps = tuple(StepRule(clock, step, offset, recipients) for (clock, step), (offset, recipients)
                  in DEFAULT_STEPS.items())
    return Policy(limits=limits, steps=steps)


def default_rows(tenant_id: int) -> list[TimeLimitDefault | EscalationStep]:
    rows: list[TimeLimitDefault | EscalationStep] = []
    for (duty_class, severity), (ack, (urban, suburban, rural), hours, days) in DEFAULT_LIMITS.items():
        rows.append(TimeLimitDefault(
            tenant_id=tenant_id, duty_class=duty_class.value, severity=severity.value, ack_minutes=ack,
            arrive_urban_minutes=urban, arrive_suburban_minutes=suburban, arrive_rural_minutes=rural,
            resolve_hours=hours, resolve_working_days=days))
    for (clock, step), (offset, recipients) in DEFAULT_STEPS.items():
        rows.append(EscalationStep(tenant_id=tenant_id, clock=clock.value, step=step.value,
                                   offset_minutes=offset, recipients=[r.value for r in recipients],
                                   is_enabled=True))
    return rows


def provision_time_limits(tenant) -> None:
    """Give a new tenant the default policy, in the creating transaction."""
    db.session.add_all(default_rows(tenant.id))
    db.session.flush()
