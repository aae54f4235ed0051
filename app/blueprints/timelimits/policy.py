"""The time-limit policy as plain values: clocks, escalation steps, recipients, limits.

Stable public names live here (they appear in the API, in timer rows and in audit events),
so the pure deadline arithmetic, the models and the schemas all speak the same words.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Mapping

from app.blueprints.catalogue.models import Severity
from app.blueprints.units.models import DutyClass


class Clock(enum.StrEnum):
    """The three SLA clocks of one instruction (design.md section 6)."""

    ACKNOWLEDGE = "acknowledge"  # 签收: the unit accepts the instruction
    ARRIVE = "arrive"            # 到场: someone of the unit is on site (only where a visit is needed)
    RESOLVE = "resolve"          # 办结: the unit reports the result


class Step(enum.StrEnum):
    """Escalation steps of a clock, in the order they fire."""

    WARNING = "warning"        # before the deadline: a reminder that time is running out
    YELLOW = "yellow"          # at the deadline: 催办 (urge), yellow level
    RED = "red"                # after a further delay: 督办 (supervise), red level
    LEADERSHIP = "leadership"  # later still, major incidents only: the leadership group (领导小组)


class Recipient(enum.StrEnum):
    """Who an escalation step reaches, symbolically; the notifier resolves them to people."""

    LIAISON = "liaison"          # the unit's 联络员
    ON_DUTY = "on_duty"          # the unit's people on duty (duty phone, on-duty users)
    UNIT_LEADER = "unit_leader"  # the unit's 分管负责人
    OFFICE = "office"            # the linkage office (联动办公室)
    LEADERSHIP = "leadership"    # the district leadership group (领导小组)


class AreaType(enum.StrEnum):
    """Where the incident is: arrival limits differ (城区 / 城郊 / 农村)."""

    URBAN = "urban"
    SUBURBAN = "suburban"
    RURAL = "rural"


CLOCK_ORDER = tuple(Clock)
STEP_ORDER = tuple(Step)
DUTY_CLASS_ORDER = tuple(DutyClass)
SEVERITY_ORDER = tuple(Severity)
# Only these steps depend on severity: the leadership group hears of major incidents only.
MAJOR_ONLY_STEPS = frozenset({Step.LEADERSHIP})

# Bounds shared by the API, the category overrides (catalogue schemas use the same numbers)
# and the parsing of stored overrides.
MAX_MINUTES = 60 * 24 * 30          # a 30-day limit is already far beyond any real one
MAX_RESOLVE_HOURS = 24 * 90
MAX_RESOLVE_WORKING_DAYS = 90
MAX_OFFSET_MINUTES = 60 * 24 * 30   # escalation offsets, either side of the deadline


@dataclass(frozen=True)
class Limits:
    """The limits of one instruction: acknowledge and arrive in minutes, resolve in one unit."""

    ack_minutes: int
    arrive_minutes: Mapping[AreaType, int]
    resolve_hours: int | None = None
    resolve_working_days: int | None = None

    def __post_init__(self):
        if (self.resolve_hours is None) == (self.resolve_working_days is None):
            raise ValueError("exactly one of resolve_hours and resolve_working_days")
        if set(self.arrive_minutes) != set(AreaType):
            raise ValueError("arrive_minutes needs urban, suburban and rural")

    def as_dict(self) -> dict:
        return {"ack_minutes": self.ack_minutes,
                "arrive_minutes": {area.value: self.arrive_minutes[area] for area in AreaType},
                "resolve_hours": self.resolve_hours,
                "resolve_working_days": self.resolve_working_days}


@dataclass(frozen=True)
class StepRule:
    """One configured escalation step: when it fires relative to its clock's deadline, and for whom."""

    clock: Clock
    step: Step
    offset_minutes: int
    recipients: tuple[Recipient, ...]
    is_enabled: bool = True


@dataclass(frozen=True)
class Policy:
    """A tenant's whole policy: limits by (duty class, severity), and the escalation steps."""

    limits: Mapping[tuple[DutyClass, Severity], Limits]
    steps: tuple[StepRule, ...] = ()

    def limits_for(self, duty_class: str, severity: str) -> Limits:
        return self.limits[(DutyClass(duty_class), Severity(severity))]
