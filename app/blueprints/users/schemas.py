"""Request and response bodies for users."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.common.fields import Id, QueryId
from app.common.roles import TENANT_ROLES, Role

_USERNAME = validate.Regexp(r"^[A-Za-z0-9._@+-]{3,64}$",
                            error="3-64 letters, digits or . _ @ + -; a phone number works.")
_PHONE = validate.Regexp(r"^\+?[0-9-]{5,20}$", error="Digits, optionally with + and -.")


class TenantBrief(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    time_zone = ma.fields.String()


class UnitBrief(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    short_name = ma.fields.String()


class UserOut(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    is_active = ma.fields.Boolean()
    tenant = ma.fields.Nested(TenantBrief, allow_none=True)
    province_code = ma.fields.String(allow_none=True)
    unit = ma.fields.Nested(UnitBrief, allow_none=True)
    last_login_at = ma.fields.AwareDateTime(allow_none=True)
    locked_until = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


_TENANT_ROLE_CHOICE = validate.OneOf(sorted(role.value for role in TENANT_ROLES))


class UserCreateIn(ma.Schema):
    username = ma.fields.String(required=True, validate=_USERNAME)
    display_name = ma.fields.String(required=True, validate=validate.Length(1, 100))
    phone = ma.fields.String(load_default=None, allow_none=True, validate=_PHONE)
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 128))
    roles = ma.fields.List(ma.fields.String(validate=_TENANT_ROLE_CHOICE), required=True,
                           validate=validate.Length(min=1))
    unit_id = Id(load_default=None, allow_none=True)


class UserUpdateIn(ma.Schema):
    display_name = ma.fields.String(validate=validate.Length(1, 100))
    phone = ma.fields.String(allow_none=True, validate=_PHONE)
    roles = ma.fields.List(ma.fields.String(validate=_TENANT_ROLE_CHOICE), validate=validate.Length(min=1))
    unit_id = Id(allow_none=True)
    is_active = ma.fields.Boolean()
    unlock = ma.fields.Boolean(metadata={"description": "Clear a login lockout"})


class PasswordResetIn(ma.Schema):
    new_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 128))


class UserListArgs(ma.Schema):
    role = ma.fields.String(validate=_TENANT_ROLE_CHOICE)
    unit_id = QueryId()
    is_active = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(1, 50),
                         metadata={"description": "Substring of username, name or phone"})
    sort = ma.fields.String(load_default="username",
                            validate=validate.OneOf(["username", "-username", "display_name",
                                                     "-display_name", "created_at", "-created_at"]))


ROLE_VALUES = [role.value for role in Role]
