"""Instructions (指令), the responders a unit sends, the unit's feedback (反馈), and the incident timeline.

Every state of an instruction carries its time and actor (`<stamp>_at`, `<stamp>_by_user_id`,
stamped by `machine.apply`); feedback keeps the server's time and the phone's claimed time.
"""
from __future__ import annotations

import enum
import functools
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKeyConstraint, Index, Integer,
                        Numeric, String, Text, Uuid, func, select, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, lazyload, mapped_column, query_expression, relationship, with_expression

from app.blueprints.instructions.machine import LIVE_STATES, State
from app.common.models import Timestamps, id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned

_STATES = ", ".join(f"'{state.value}'" for state in State)
_LIVE = ", ".join(f"'{state.value}'" for state in State if state in LIVE_STATES)


class InstructionRole(enum.StrEnum):
    LEAD = "lead"      # 主办
    ASSIST = "assist"  # 协办


class FeedbackKind(enum.StrEnum):
    ARRIVAL = "arrival"    # 到场反馈
    PROGRESS = "progress"  # 处置反馈
    RESULT = "result"      # 处置结果


def _user_fk(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], ["users.tenant_id", "users.id"])


_STAMPS = ("issued", "acknowledged", "en_route", "arrived", "resolved", "returned", "cancelled", "reopened",
           "reviewed")


class Instruction(TenantOwned, Timestamps, db.Model):
    __tablename__ = "instructions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "reissue_of_id"], ["instructions.tenant_id", "instructions.id"]),
        *(_user_fk(f"{stamp}_by_user_id") for stamp in _STAMPS),
        CheckConstraint(f"state IN ({_STATES})", name="state_known"),
        CheckConstraint("role IN ('lead', 'assist')", name="role_known"),
        CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL", name="return_has_reason"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("supervision_level IN ('none', 'yellow', 'red')", name="supervision_level_known"),
        Index("ix_instructions_tenant_id_unit_id_state", "tenant_id", "unit_id", "state"),
        # A unit's inbox, newest first: a page is an index walk, not a sort of the unit's whole history.
        Index("ix_instructions_tenant_id_unit_id_id", "tenant_id", "unit_id", "id"),
        Index("ix_instructions_tenant_id_incident_id", "tenant_id", "incident_id"),
        # The live instructions only (a few hundred of a district's million), carrying their clocks: the
        # desk board finds every incident with a run-out clock in one small index-only scan, instead of
        # one probe per incident in hand (migration 0011; measured in bench/incidents/RESULTS.md).
        Index("ix_instructions_live", "tenant_id", "incident_id",
              postgresql_include=["state", "unit_id", "acknowledge_by", "arrive_by", "resolve_by",
                                 "needs_site_visit"],
              postgresql_where=text(f"state IN ({_LIVE})")),
    )

    id: Mapped[int] = id_column()
    incident_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(8), default=InstructionRole.LEAD.value)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=State.ISSUED.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    needs_site_visit: Mapped[bool] = mapped_column(Boolean, default=True)

    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    en_route_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    en_route_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    return_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    # 审核: the desk accepted the result (send-back is `reopen`). Cleared when the work is reopened.
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)

    # Clocks (timelimits.plan_clocks) from the moment of issue.
    acknowledge_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrive_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    result_code: Mapped[str | None] = mapped_column(String(8))
    result_text: Mapped[str | None] = mapped_column(Text)
    reissue_of_id: Mapped[int | None] = mapped_column(BigInteger)
    # The desk overruled this unit's return and re-issued it to the same unit: counts against the unit.
    is_overruled_return: Mapped[bool] = mapped_column(Boolean, default=False)
    # 督办 level raised by fired escalation steps (reminders): none -> yellow (催办) -> red (督办).
    # Not a machine state, so it does not bump `version`: a reminder never makes a unit's write stale.
    supervision_level: Mapped[str] = mapped_column(String(8), default="none", server_default="none")

    responders = relationship("InstructionResponder", lazy="selectin", cascade="all, delete-orphan",
                              order_by="InstructionResponder.user_id")
    # Filled only by list reads (`with_responder_ids()`): the responders' ids as one column of the page's
    # own query, where the selectin relationship costs a second query per page.
    listed_responder_ids: Mapped[list[int] | None] = query_expression()

    @property
    def responder_user_ids(self) -> list[int]:
        # Loaded responders are the truth (a write may just have changed them); else a list read's column.
        if "responders" not in self.__dict__ and self.listed_responder_ids is not None:
            return list(self.listed_responder_ids)
        return [row.user_id for row in self.responders]

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class InstructionResponder(TenantOwned, db.Model):
    """A responder of the instructed unit, named when the unit acknowledged (签收时指派)."""

    __tablename__ = "instruction_responders"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"],
                             ondelete="CASCADE"),
        _user_fk("user_id"),
        Index("ix_instruction_responders_tenant_id_user_id", "tenant_id", "user_id"),
    )

    instruction_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    named_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@functools.cache  # built once: options are immutable, and building them was ~5 % of an inbox request
def with_responder_ids() -> tuple:
    """Loader options for lists of instructions: each row's responder ids come with it, in id order (as the
    relationship orders them), and the responders themselves load only if something touches them."""
    # The ORM's tenant criteria do not reach an expression given to with_expression: the tenant is
    # matched explicitly (row-level security applies as well).
    ids = select(InstructionResponder.user_id).where(
        InstructionResponder.tenant_id == Instruction.tenant_id,
        InstructionResponder.instruction_id == Instruction.id,
    ).order_by(InstructionResponder.user_id).correlate(Instruction).scalar_subquery()
    return (with_expression(Instruction.listed_responder_ids, func.array(ids, type_=ARRAY(BigInteger))),
            lazyload(Instruction.responders))


class Feedback(TenantOwned, db.Model):
    """One report of the unit: arrival, progress or result. Photos are uploaded first; this names them."""

    __tablename__ = "instruction_feedback"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"],
                             ondelete="CASCADE"),
        _user_fk("author_user_id"),
        CheckConstraint("kind IN ('arrival', 'progress', 'result')", name="kind_known"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy_not_negative"),
        Index("ix_instruction_feedback_tenant_id_instruction_id", "tenant_id", "instruction_id"),
    )

    id: Mapped[int] = id_column()
    instruction_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    author_user_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)     # server time
    client_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))       # the phone's claim
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    accuracy_m: Mapped[int | None] = mapped_column(Integer)
    media_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)


class ExtensionState(enum.StrEnum):
    PENDING = "pending"    # 待审批
    APPROVED = "approved"  # 已批准
    REFUSED = "refused"    # 未批准
    LAPSED = "lapsed"      # 已失效: the instruction ended (resolved, returned, cancelled) before a decision


class Extension(TenantOwned, db.Model):
    """延期申请: a unit asks for more time to resolve; the desk approves (moving `resolve_by`) or refuses.

    At most one request per instruction is pending at a time (partial unique index).
    """

    __tablename__ = "instruction_extensions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"],
                             ondelete="CASCADE"),
        _user_fk("requested_by_user_id"),
        _user_fk("decided_by_user_id"),
        CheckConstraint("state IN ('pending', 'approved', 'refused', 'lapsed')", name="state_known"),
        CheckConstraint("requested_resolve_by > previous_resolve_by", name="asks_for_more_time"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"),
        CheckConstraint("state <> 'approved' OR granted_resolve_by IS NOT NULL", name="approved_has_deadline"),
        Index("ix_instruction_extensions_tenant_id_instruction_id", "tenant_id", "instruction_id"),
        Index("uq_instruction_extensions_one_pending", "tenant_id", "instruction_id", unique=True,
              postgresql_where="state = 'pending'"),
    )

    id: Mapped[int] = id_column()
    instruction_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=ExtensionState.PENDING.value)
    reason: Mapped[str] = mapped_column(Text)
    previous_resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    granted_resolve_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TimelineEvent(TenantOwned, db.Model):
    """One step in an incident's life, in order: who, what, when (server and client time)."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"],
                             ondelete="CASCADE"),
        _user_fk("actor_user_id"),
        Index("ix_timeline_events_tenant_id_incident_id_id", "tenant_id", "incident_id", "id"),
    )

    id: Mapped[int] = id_column()
    incident_id: Mapped[int] = mapped_column(BigInteger)
    instruction_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
