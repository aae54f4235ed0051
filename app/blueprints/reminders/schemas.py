"""Bodies for an instruction's timers (its escalation schedule and what fired)."""
from __future__ import annotations

import marshmallow as ma

from app.blueprints.rosters.schemas import TenantDateTime


class TimerOut(ma.Schema):
    id = ma.fields.Integer()
    instruction_id = ma.fields.Integer()
    clock = ma.fields.String(metadata={"description": "`acknowledge`, `arrive`, `resolve`; `manual` for the desk's 催办"})
    step = ma.fields.String(metadata={"description": "`warning`, `yellow`, `red`, `leadership`; `urge` (manual)"})
    recipients = ma.fields.List(ma.fields.String())
    due_at = TenantDateTime()
    state = ma.fields.String(metadata={"description": "`pending`, `fired` or `cancelled`"})
    fired_at = TenantDateTime(allow_none=True)
    fired_by = ma.fields.String(allow_none=True)
    cancelled_at = TenantDateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    outcome = ma.fields.Dict()
