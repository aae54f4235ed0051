"""Domain events of the instruction lifecycle, published after commit through `app.common.events`.

Subscribers (reminders, notifications) register by class name, e.g.
`events.subscribe("InstructionAcknowledged", handler)`. Events carry ids only: a subscriber
reads what it needs in its own tenant-scoped session.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InstructionEvent:
    tenant_id: int
    incident_id: int
    instruction_id: int
    unit_id: int
    version: int
    at: datetime
    actor_user_id: int | None


class InstructionIssued(InstructionEvent): pass        # noqa: E701  下达
class InstructionAcknowledged(InstructionEvent): pass  # noqa: E701  签收
class InstructionReturned(InstructionEvent): pass      # noqa: E701  退回
class InstructionSetOut(InstructionEvent): pass        # noqa: E701  出发
class InstructionArrived(InstructionEvent): pass       # noqa: E701  到场
class InstructionProgressed(InstructionEvent): pass    # noqa: E701  处置反馈
class InstructionResolved(InstructionEvent): pass      # noqa: E701  处置完毕
class InstructionCancelled(InstructionEvent): pass     # noqa: E701  撤销
class InstructionReopened(InstructionEvent): pass      # noqa: E701  重办
class InstructionReissued(InstructionEvent): pass      # noqa: E701  重新下达
class InstructionAccepted(InstructionEvent): pass      # noqa: E701  审核通过
class ExtensionRequested(InstructionEvent): pass       # noqa: E701  延期申请
class ExtensionApproved(InstructionEvent): pass        # noqa: E701  批准延期: resolve_by moved
class ExtensionRefused(InstructionEvent): pass         # noqa: E701  不予延期


@dataclass(frozen=True)
class MajorIncidentInstructed:
    """A major (重特大) incident got its first instructions: the leadership group was told."""

    tenant_id: int
    incident_id: int
    at: datetime
