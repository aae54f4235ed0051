"""The deadlines of one instruction, and when its escalation steps fire.

Pure arithmetic: no database, no clock of its own. Every input and output time is aware;
outputs are UTC. The rules (docs/time-limits.md):
- acknowledge and arrive limits are plain minutes after the instruction was issued;
- a resolve limit in hours is plain hours after issue (24-hour units keep no office days);
- a resolve limit of N working days ends at 24:00 local time of the N-th working day after
  the local day of issue. The day of issue never counts, and a call on a holiday or weekend
  counts from the first working day after it (民法典 art. 201 and 203: a period in days
  starts the next day and ends at 24:00 of its last day).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from app.blueprints.catalogue.models import Severity
from app.blueprints.timelimits import workdays
from app.blueprints.timelimits.policy import (CLOCK_ORDER, MAJOR_ONLY_STEPS, MAX_MINUTES, MAX_RESOLVE_HOURS,
                                              MAX_RESOLVE_WORKING_DAYS, STEP_ORDER, AreaType, Clock, Limits,
                                              Policy, Recipient, Step, StepRule)

OVERRIDE_KEYS = ("ack_minutes", "arrive_minutes", "resolve_hours", "resolve_working_days")


class InvalidTimeLimits(ValueError):
    """Stored category overrides that cannot be applied; `errors` names the offending keys."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime
    arrive_by: datetime | None  # None: no site visit needed, so no arrive clock
    resolve_by: datetime
    limits: Limits              # the limits in force after the category's overrides
    # True when resolve_by counted days of a year the holiday calendar does not know yet
    # (Monday–Friday was assumed): the deadline is an estimate.
    calendar_fallback: bool = False

    def by_clock(self) -> dict[Clock, datetime | None]:
        return {Clock.ACKNOWLEDGE: self.acknowledge_by, Clock.ARRIVE: self.arrive_by,
                Clock.RESOLVE: self.resolve_by}


@dataclass(frozen=True)
class ScheduledStep:
    clock: Clock
    step: Step
    due_at: datetime
    recipients: tuple[Recipient, ...]


def _whole_number(value, maximum: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Not a whole number."
    if not 1 <= value <= maximum:
        return f"Must be between 1 and {maximum}."
    return None


def apply_overrides(base: Limits, overrides: Mapping | None) -> Limits:
    """The tenant's limits with a category's `time_limits` overrides laid over them.

    Each given key replaces the default; `arrive_minutes` may name only some areas. Giving
    either resolve unit replaces the default's resolve limit whatever its unit. Keys set to
    null count as not given.
    """
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    errors: dict[str, list[str]] = {}
    for key in sorted(set(given) - set(OVERRIDE_KEYS)):
        errors[key] = ["Unknown time-limit key."]
    for key, maximum in (("ack_minutes", MAX_MINUTES), ("resolve_hours", MAX_RESOLVE_HOURS),
                         ("resolve_working_days", MAX_RESOLVE_WORKING_DAYS)):
        if key in given and (problem := _whole_number(given[key], maximum)):
            errors[key] = [problem]
    arrive = given.get("arrive_minutes", {})
    if not isinstance(arrive, Mapping) or set(arrive) - set(AreaType):
        errors["arrive_minutes"] = ["An object with any of urban, suburban, rural."]
    elif problems := [f"{area}: {problem}" for area, value in arrive.items()
                      if (problem := _whole_number(value, MAX_MINUTES))]:
        errors["arrive_minutes"] = problems
    if "resolve_hours" in given and "resolve_working_days" in given:
        errors.setdefault("resolve_hours", []).append("Give resolve_hours or resolve_working_days, not both.")
    if errors:
        raise InvalidTimeLimits(errors)

    limits = base
    if "ack_minutes" in given:
        limits = replace(limits, ack_minutes=given["ack_minutes"])
    if arrive:
        limits = replace(limits, arrive_minutes={**limits.arrive_minutes,
                                                 **{AreaType(area): value for area, value in arrive.items()}})
    if "resolve_hours" in given:
        limits = replace(limits, resolve_hours=given["resolve_hours"], resolve_working_days=None)
    if "resolve_working_days" in given:
        limits = replace(limits, resolve_hours=None, resolve_working_days=given["resolve_working_days"])
    return limits


def working_days_deadline(issued_at: datetime, working_days: int, zone: tzinfo) -> tuple[datetime, bool]:
    """24:00 local of the `working_days`-th working day after the local day of issue, in UTC;
    and whether the Monday–Friday fallback counted any of those days."""
    issue_day = issued_at.astimezone(zone).date()
    last_day = workdays.nth_workday_after(issue_day, working_days)
    # 24:00 of the last day is 00:00 of the next; that next day may well be a holiday.
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return end.astimezone(UTC), workdays.span_uses_fallback(issue_day, last_day)


def _zone(time_zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone


def deadlines_for(*, issued_at: datetime, duty_class: str, severity: str, area: str, needs_site_visit: bool,
                  policy: Policy, time_zone: str | tzinfo, category_limits: Mapping | None = None) -> Deadlines:
    """The acknowledge, arrive and resolve deadlines of one instruction, all aware UTC.

    `duty_class` is the instructed unit's, `severity` the incident's, `area` where it is,
    `category_limits` the category's `time_limits` overrides (if any), and `time_zone` the
    tenant's: it decides which local day the call came in on and when that day ends.
    """
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be an aware datetime")
    issued_at = issued_at.astimezone(UTC)
    limits = apply_overrides(policy.limits_for(duty_class, severity), category_limits)
    area = AreaType(area)

    acknowledge_by = issued_at + timedelta(minutes=limits.ack_minutes)
    arrive_by = issued_at + timedelta(minutes=limits.arrive_minutes[area]) if needs_site_visit else None
    calendar_fallback = False
    if limits.resolve_hours is not None:
        resolve_by = issued_at + timedelta(hours=limits.resolve_hours)
    else:
        resolve_by, calendar_fallback = working_days_deadline(issued_at, limits.resolve_working_days,
                                                              _zone(time_zone))
    return Deadlines(acknowledge_by=acknowledge_by, arrive_by=arrive_by, resolve_by=resolve_by,
                     limits=limits, calendar_fallback=calendar_fallback)


def escalation_schedule(*, deadlines: Deadlines, steps: Iterable[StepRule], severity: str,
                        issued_at: datetime) -> list[ScheduledStep]:
    """When each enabled step of each running clock fires, in firing order.

    Left out: steps of a clock that does not run (no visit, no arrive clock), the
    leadership step unless the incident is major, and steps that would fall at or before
    the moment of issue (a warning 10 minutes before a 5-minute deadline warns of nothing).
    """
    is_major = Severity(severity) == Severity.MAJOR
    due_by_clock = deadlines.by_clock()
    schedule = []
    for rule in steps:
        deadline = due_by_clock[rule.clock]
        if not rule.is_enabled or deadline is None:
            continue
        if rule.step in MAJOR_ONLY_STEPS and not is_major:
            continue
        due_at = deadline + timedelta(minutes=rule.offset_minutes)
        if due_at <= issued_at:
            continue
        schedule.append(ScheduledStep(rule.clock, rule.step, due_at, tuple(rule.recipients)))
    return sorted(schedule, key=lambda item: (item.due_at, CLOCK_ORDER.index(item.clock),
                                              STEP_ORDER.index(item.step)))
