"""A tenant's time-limit policy: default limits by duty class × severity, and escalation steps.

Categories may override the limits (Category.time_limits); docs/time-limits.md explains
the defaults and how the deadlines are computed.
"""
from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.blueprints.catalogue.models import Severity
from app.blueprints.timelimits.policy import AreaType, Clock, Limits, Recipient, Step, StepRule
from app.blueprints.units.models import DutyClass
from app.common.models import Timestamps, id_column
from app.extensions import db
from app.tenants.models import TenantOwned


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


class TimeLimitDefault(TenantOwned, Timestamps, db.Model):
    """One cell of the policy grid: the limits for units of one duty class at one severity."""

    __tablename__ = "time_limit_defaults"
    __table_args__ = (
        UniqueConstraint("tenant_id", "duty_class", "severity"),
        CheckConstraint(f"duty_class IN ({_sql_list(DutyClass)})", name="duty_class_known"),
        CheckConstraint(f"severity IN ({_sql_list(Severity)})", name="severity_known"),
        CheckConstraint("ack_minutes > 0 AND arrive_urban_minutes > 0 AND arrive_suburban_minutes > 0 "
                        "AND arrive_rural_minutes > 0", name="minutes_positive"),
        CheckConstraint("num_nonnulls(resolve_hours, resolve_working_days) = 1", name="one_resolve_unit"),
        CheckConstraint("coalesce(resolve_hours, resolve_working_days) > 0", name="resolve_positive"),
    )

    id: Mapped[int] = id_column()
    duty_class: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    ack_minutes: Mapped[int] = mapped_column(Integer)
    arrive_urban_minutes: Mapped[int] = mapped_column(Integer)
    arrive_suburban_minutes: Mapped[int] = mapped_column(Integer)
    arrive_rural_minutes: Mapped[int] = mapped_column(Integer)
    resolve_hours: Mapped[int | None] = mapped_column(Integer)
    resolve_working_days: Mapped[int | None] = mapped_column(Integer)

    @property
    def arrive_minutes(self) -> dict[str, int]:
        return {AreaType.URBAN.value: self.arrive_urban_minutes,
                AreaType.SUBURBAN.value: self.arrive_suburban_minutes,
                AreaType.RURAL.value: self.arrive_rural_minutes}

    @arrive_minutes.setter
    def arrive_minutes(self, minutes: dict[str, int]) -> None:
        for area, value in minutes.items():
            setattr(self, f"arrive_{AreaType(area).value}_minutes", value)

    def limits(self) -> Limits:
        return Limits(ack_minutes=self.ack_minutes,
                      arrive_minutes={AreaType(area): value for area, value in self.arrive_minutes.items()},
                      resolve_hours=self.resolve_hours, resolve_working_days=self.resolve_working_days)


class EscalationStep(TenantOwned, Timestamps, db.Model):
    """One escalation step of one clock: fires `offset_minutes` after the deadline (negative: before)."""

    __tablename__ = "escalation_steps"
    __table_args__ = (
        UniqueConstraint("tenant_id", "clock", "step"),
        CheckConstraint(f"clock IN ({_sql_list(Clock)})", name="clock_known"),
        CheckConstraint(f"step IN ({_sql_list(Step)})", name="step_known"),
        CheckConstraint(f"recipients <@ ARRAY[{_sql_list(Recipient)}]::varchar[]", name="recipients_known"),
        CheckConstraint("cardinality(recipients) > 0", name="has_a_recipient"),
        # The one ordering rule a single row can check: a warning comes before the deadline,
        # everything else at or after it. Ordering between steps is the service's job.
        CheckConstraint("(step = 'warning') = (offset_minutes < 0)", name="only_warnings_precede"),
    )

    id: Mapped[int] = id_column()
    clock: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    def rule(self) -> StepRule:
        return StepRule(clock=Clock(self.clock), step=Step(self.step), offset_minutes=self.offset_minutes,
                        recipients=tuple(Recipient(r) for r in self.recipients), is_enabled=self.is_enabled)
