"""Request and response bodies for tenants."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.tenants.templates import TEMPLATES


class TenantOut(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    province_code = ma.fields.String()
    time_zone = ma.fields.String()
    status = ma.fields.String()
    settings = ma.fields.Dict()
    created_at = ma.fields.AwareDateTime()


class TenantCreateIn(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$",
                                                                    error="A 6-digit division code."))
    name = ma.fields.String(required=True, validate=validate.Length(1, 100))
    province_code = ma.fields.String(validate=validate.Regexp(r"^[0-9]{2}0000$"))
    time_zone = ma.fields.String(load_default="Asia/Shanghai", validate=validate.Length(1, 64))
    template = ma.fields.String(load_default=None, allow_none=True,
                                validate=validate.OneOf(sorted(TEMPLATES)))


class TenantPlatformUpdateIn(ma.Schema):
    name = ma.fields.String(validate=validate.Length(1, 100))
    status = ma.fields.String(validate=validate.OneOf(["active", "suspended"]))
    time_zone = ma.fields.String(validate=validate.Length(1, 64))


class TenantSelfUpdateIn(ma.Schema):
    """What a linkage office may change of its own district."""

    time_zone = ma.fields.String(validate=validate.Length(1, 64))
    settings = ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(1, 64)),
                              metadata={"description": "Merged into the current settings (RFC 7396): "
                                                       "given keys are set, keys given as null removed."})
