"""flask-jwt-extended callbacks: token checks against PostgreSQL, and errors in the uniform body."""
from __future__ import annotations

from flask import g
from flask_jwt_extended import JWTManager

from app.errors import error_response


def register_jwt_callbacks(jwt: JWTManager) -> None:
    from app.blueprints.auth.service import check_token

    @jwt.token_in_blocklist_loader
    def _is_revoked(_header, payload):
        return check_token(payload)

    @jwt.user_lookup_loader
    def _user(_header, _payload):
        return g.get("token_user")

    @jwt.user_lookup_error_loader
    def _user_gone(_header, _payload):
        return error_response(401, "token_revoked", "This token is no longer valid; log in again.")

    @jwt.revoked_token_loader
    def _revoked(_header, _payload):
        return error_response(401, "token_revoked", "This token is no longer valid; log in again.")

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return error_response(401, "token_expired", "The token has expired; refresh it or log in again.")

    @jwt.invalid_token_loader
    def _invalid(reason):
        return error_response(401, "token_invalid", f"The token is invalid: {reason}.")

    @jwt.unauthorized_loader
    def _missing(reason):
        return error_response(401, "unauthorized", f"Authentication is required: {reason}.")

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header, _payload):
        return error_response(401, "fresh_token_required", "Log in again to do this.")
