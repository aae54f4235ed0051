"""Bodies for the in-app inbox."""
from __future__ import annotations

import marshmallow as ma


class NotificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict()
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class InboxArgs(ma.Schema):
    unread_only = ma.fields.Boolean(load_default=False)


class MarkedOut(ma.Schema):
    marked = ma.fields.Integer()
