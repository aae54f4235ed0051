"""Response bodies and filters for the audit log."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.common.fields import QueryId


class AuditEventOut(ma.Schema):
    seq = ma.fields.Integer()
    occurred_at = ma.fields.AwareDateTime()
    action = ma.fields.String()
    actor_user_id = ma.fields.Integer(allow_none=True)
    actor_username = ma.fields.String(allow_none=True)
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    hash = ma.fields.String()


class AuditListArgs(ma.Schema):
    action = ma.fields.String(validate=validate.Length(1, 64),
                              metadata={"description": "Exact action, or a prefix ending in '.', e.g. `auth.`"})
    actor_user_id = QueryId()
    target_type = ma.fields.String(validate=validate.Length(1, 32))
    target_id = ma.fields.String(validate=validate.Length(1, 64))
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()
