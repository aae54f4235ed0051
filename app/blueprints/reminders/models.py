"""Timer rows: one per escalation step of a running clock, the truth the RQ jobs only point at.

A timer is `pending` until it fires (`fired`) or its clock is satisfied, restarted or moved
away (`cancelled`). Jobs carry `(tenant_id, id, token)`; moving a timer bumps `token`, so a job
scheduled for the old time finds itself stale and does nothing. Manual urges (催办 by the desk)
are recorded here too, already fired, so the assessment counts both the same way.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import literal_column

from app.common.models import id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class TimerState(enum.StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


# The claims' predicate, written as a literal (not a bound parameter) so the planner can match the
# partial index `ix_timers_pending_due` even in a generic plan.
IS_PENDING = literal_column("timers.state") == literal_column("'pending'")


class FiredBy(enum.StrEnum):
    JOB = "job"      # the per-timer job RQ's scheduler started at the due time
    SWEEP = "sweep"  # the periodic sweep (lost job, Redis flushed, worker down)
    DESK = "desk"    # a manual urge (催办) by the desk


# A manual urge is a timer of this clock and step, created fired.
MANUAL_CLOCK = "manual"
MANUAL_STEP = "urge"


class Timer(TenantOwned, db.Model):
    __tablename__ = "timers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"],
                             ondelete="CASCADE"),
        CheckConstraint("clock IN ('acknowledge', 'arrive', 'resolve', 'manual')", name="clock_known"),
        CheckConstraint("step IN ('warning', 'yellow', 'red', 'leadership', 'urge')", name="step_known"),
        CheckConstraint("state IN ('pending', 'fired', 'cancelled')", name="state_known"),
        CheckConstraint("(state = 'fired') = (fired_at IS NOT NULL)", name="fired_has_time"),
        CheckConstraint("token > 0", name="token_positive"),
        # The sweep's and the job's claim: pending timers of a tenant in due order.
        Index("ix_timers_pending_due", "tenant_id", "due_at", postgresql_where="state = 'pending'"),
        Index("ix_timers_tenant_id_instruction_id", "tenant_id", "instruction_id"),
        # The assessment's counts of fired steps per unit; partial, so the planner never takes it for a claim.
        Index("ix_timers_tenant_id_unit_id_fired_at", "tenant_id", "unit_id", "fired_at",
              postgresql_where="state = 'fired'"),
    )

    id: Mapped[int] = id_column()
    instruction_id: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    clock: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))
    # Relative to the clock's deadline (negative: before it); kept so an extension can move the step.
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=TimerState.PENDING.value)
    token: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fired_by: Mapped[str | None] = mapped_column(String(8))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    # What firing did: level before/after, how late, notification counts.
    outcome: Mapped[dict] = mapped_column(JSONB, default=dict)

    @property
    def job_id(self) -> str:
        return job_id(self.tenant_id, self.id, self.token)


def job_id(tenant_id: int, timer_id: int, token: int) -> str:
    return f"timer-{tenant_id}-{timer_id}-{token}"
