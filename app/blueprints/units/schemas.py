"""Request and response bodies for linkage units."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.units.models import DutyClass, UnitKind
from app.common.fields import QueryId

PHONE = validate.Regexp(r"^\+?[0-9][0-9-]{2,19}$", error="Digits, optionally with + and -.")
_DUTY = validate.OneOf([d.value for d in DutyClass])
_KIND = validate.OneOf([k.value for k in UnitKind])


class ResponsibilityIn(ma.Schema):
    number = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 99))
    text = ma.fields.String(required=True, validate=validate.Length(1, 2000))


class ResponsibilityOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    text = ma.fields.String()


class ContactsIn(ma.Schema):
    """变动报送: who leads, who liaises, which phone is on duty."""

    duty_phone = ma.fields.String(allow_none=True, validate=PHONE)
    leader_name = ma.fields.String(allow_none=True, validate=validate.Length(1, 50))
    leader_title = ma.fields.String(allow_none=True, validate=validate.Length(1, 50))
    leader_phone = ma.fields.String(allow_none=True, validate=PHONE)
    liaison_name = ma.fields.String(allow_none=True, validate=validate.Length(1, 50))
    liaison_title = ma.fields.String(allow_none=True, validate=validate.Length(1, 50))
    liaison_phone = ma.fields.String(allow_none=True, validate=PHONE)


class UnitCreateIn(ContactsIn):
    name = ma.fields.String(required=True, validate=validate.Length(1, 100))
    short_name = ma.fields.String(required=True, validate=validate.Length(1, 30))
    duty_class = ma.fields.String(required=True, validate=_DUTY)
    kind = ma.fields.String(load_default="linkage", validate=_KIND)
    webhook_url = ma.fields.Url(allow_none=True, schemes={"https", "http"}, validate=validate.Length(max=500))
    sort_order = ma.fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 10_000))
    responsibilities = ma.fields.List(ma.fields.Nested(ResponsibilityIn), load_default=list,
                                      validate=validate.Length(max=50))


class UnitUpdateIn(ContactsIn):
    name = ma.fields.String(validate=validate.Length(1, 100))
    short_name = ma.fields.String(validate=validate.Length(1, 30))
    duty_class = ma.fields.String(validate=_DUTY)
    kind = ma.fields.String(validate=_KIND)
    webhook_url = ma.fields.Url(allow_none=True, schemes={"https", "http"}, validate=validate.Length(max=500))
    sort_order = ma.fields.Integer(strict=True, validate=validate.Range(0, 10_000))
    is_active = ma.fields.Boolean()
    responsibilities = ma.fields.List(ma.fields.Nested(ResponsibilityIn), validate=validate.Length(max=50),
                                      metadata={"description": "Replaces the whole numbered list"})


class UnitOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    short_name = ma.fields.String()
    duty_class = ma.fields.String()
    kind = ma.fields.String()
    duty_phone = ma.fields.String(allow_none=True)
    leader_name = ma.fields.String(allow_none=True)
    leader_title = ma.fields.String(allow_none=True)
    leader_phone = ma.fields.String(allow_none=True)
    liaison_name = ma.fields.String(allow_none=True)
    liaison_title = ma.fields.String(allow_none=True)
    liaison_phone = ma.fields.String(allow_none=True)
    webhook_url = ma.fields.String(allow_none=True)
    sort_order = ma.fields.Integer()
    is_active = ma.fields.Boolean()
    responsibilities = ma.fields.List(ma.fields.Nested(ResponsibilityOut))
    updated_at = ma.fields.AwareDateTime()


class UnitListArgs(ma.Schema):
    duty_class = ma.fields.String(validate=_DUTY)
    kind = ma.fields.String(validate=_KIND)
    is_active = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(1, 50), metadata={"description": "Substring of a name"})


class ContactChangeOut(ma.Schema):
    id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    changed_by_user_id = ma.fields.Integer(allow_none=True)
    changed_at = ma.fields.AwareDateTime()
    before = ma.fields.Dict()
    after = ma.fields.Dict()


class ContactChangeArgs(ma.Schema):
    changed_by_user_id = QueryId()
