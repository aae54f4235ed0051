"""Request and response bodies for authentication."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.users.schemas import UserOut


class LoginIn(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(1, 64))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 128))


class TokensOut(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "Access token lifetime in seconds"})
    user = ma.fields.Nested(UserOut)


class PasswordChangeIn(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 128))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 128))
