"""Extension requests (延期申请): the rows behind the instruction machine's extension steps.

The machine decides whether a step is allowed (one pending request at a time, a decision needs a
pending one); this module keeps the request, moves `resolve_by` on approval, and lets a pending
request lapse when the instruction ends before anyone decided.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.blueprints.instructions.models import Extension, ExtensionState, Instruction
from app.common.models import utcnow
from app.errors import Unprocessable
from app.extensions import db

# A request beyond this is a new job, not an extension: the desk re-plans it instead.
LONGEST_EXTENSION = timedelta(days=30)


def _pending(instruction_id: int) -> Extension | None:
    return db.session.execute(select(Extension).where(
        Extension.instruction_id == instruction_id, Extension.state == ExtensionState.PENDING.value)
        .with_for_update()).scalar_one_or_none()


def pending_fact(instruction: Instruction) -> dict:
    """What the machine's guards need: the id of the pending request, if any."""
    pending = _pending(instruction.id)
    return {"pending_extension_id": pending.id if pending is not None else None}


def _check_later(instruction: Instruction, resolve_by: datetime) -> None:
    if resolve_by <= instruction.resolve_by:
        raise Unprocessable("extension_not_later", "The new deadline must be later than the current one.",
                            errors={"resolve_by": [f"Later than {instruction.resolve_by.isoformat()}."]})
    if resolve_by - instruction.resolve_by > LONGEST_EXTENSION:
        raise Unprocessable("extension_too_long", "An extension is at most 30 days.",
                            errors={"resolve_by": ["At most 30 days after the current deadline."]})


def record_request(instruction: Instruction, *, actor, reason: str, resolve_by: datetime,
                   client_time: datetime | None) -> Extension:
    _check_later(instruction, resolve_by)
    row = Extension(tenant_id=instruction.tenant_id, instruction_id=instruction.id, reason=reason,
                    previous_resolve_by=instruction.resolve_by, requested_resolve_by=resolve_by,
                    requested_by_user_id=actor.id, requested_at=utcnow(), client_at=client_time)
    db.session.add(row)
    return row


def _decide(row: Extension, state: ExtensionState, *, actor, note: str | None) -> None:
    row.state, row.decided_at, row.decision_note = state.value, utcnow(), note or None
    row.decided_by_user_id = getattr(actor, "id", None)


def approve(instruction: Instruction, *, actor, resolve_by: datetime | None, note: str) -> Extension:
    row = _pending(instruction.id)
    granted = resolve_by or row.requested_resolve_by
    _check_later(instruction, granted)
    _decide(row, ExtensionState.APPROVED, actor=actor, note=note)
    row.granted_resolve_by = granted
    instruction.resolve_by = granted
    return row


def refuse(instruction: Instruction, *, actor, note: str) -> Extension:
    row = _pending(instruction.id)
    _decide(row, ExtensionState.REFUSED, actor=actor, note=note)
    return row


def lapse_pending(instruction: Instruction) -> None:
    """The instruction ended (resolved, returned, cancelled) with a request still open: nobody decides it now."""
    row = _pending(instruction.id)
    if row is not None:
        _decide(row, ExtensionState.LAPSED, actor=None, note=f"instruction {instruction.state}")


def history(instruction_id: int) -> list[Extension]:
    return list(db.session.execute(select(Extension).where(Extension.instruction_id == instruction_id)
                                   .order_by(Extension.id)).scalars())
