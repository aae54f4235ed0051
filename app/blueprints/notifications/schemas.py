"""Bodies for the in-app inbox, the office's deliveries and the channels' endpoints."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.rosters.schemas import TenantDateTime
from app.common.fields import Id


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


class UnreadOut(ma.Schema):
    unread = ma.fields.Integer()


class DeliveryArgs(ma.Schema):
    state = ma.fields.String(validate=validate.OneOf(["pending", "sent", "failed"]),
                             metadata={"description": "`failed`: what the office must look at"})
    channel = ma.fields.String(validate=validate.OneOf(["sms", "webhook", "email"]))


class DeliveryOut(ma.Schema):
    id = ma.fields.Integer()
    channel = ma.fields.String()
    recipient_user_id = ma.fields.Integer(allow_none=True)
    unit_id = ma.fields.Integer(allow_none=True)
    address = ma.fields.String(allow_none=True, metadata={"description": "Phone, webhook URL or e-mail address"})
    kind = ma.fields.String()
    title = ma.fields.String()
    data = ma.fields.Dict()
    state = ma.fields.String(metadata={"description": "`pending`, `sent` or `failed`"})
    attempts = ma.fields.Integer()
    next_attempt_at = TenantDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = TenantDateTime()
    sent_at = TenantDateTime(allow_none=True)


class EndpointIn(ma.Schema):
    channel = ma.fields.String(required=True, validate=validate.OneOf(["sms", "webhook", "email"]))
    unit_id = Id(allow_none=True, load_default=None,
                 metadata={"description": "The unit (webhook, unit mailbox); none for the SMS gateway and the "
                                          "office's mailbox"})
    target = ma.fields.String(required=True, validate=validate.Length(1, 500),
                              metadata={"description": "http(s) URL (sms, webhook) or an e-mail address"})
    secret = ma.fields.String(validate=validate.Length(16, 200), load_default=None,
                              metadata={"description": "HMAC-SHA256 key (write only); required for a new webhook"})
    is_enabled = ma.fields.Boolean(load_default=True)

    @ma.validates_schema
    def _target_fits_channel(self, data, **_kwargs):
        target = data.get("target", "")
        if data.get("channel") in ("sms", "webhook"):
            if not target.startswith(("http://", "https://")):
                raise ma.ValidationError("An http(s) URL.", "target")
        elif data.get("channel") == "email":
            validate.Email(error="An e-mail address.")(target)


class EndpointOut(ma.Schema):
    id = ma.fields.Integer()
    channel = ma.fields.String()
    unit_id = ma.fields.Integer(allow_none=True)
    target = ma.fields.String()
    has_secret = ma.fields.Function(lambda row: row.secret is not None)
    is_enabled = ma.fields.Boolean()
    updated_at = TenantDateTime()
