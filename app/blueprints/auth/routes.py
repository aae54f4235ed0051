"""Authentication endpoints under /api/v1/auth."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request
from flask_smorest import Blueprint

from app.blueprints.auth import service
from app.blueprints.auth.schemas import LoginIn, PasswordChangeIn, TokensOut
from app.blueprints.users.schemas import UserOut
from app.common.authz import public, requires
from app.common.roles import ALL_ROLES
from app.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login and tokens (登录与令牌)")


def _login_limit() -> str:
    return current_app.extensions["liandong_settings"].login_rate_limit


@blp.route("/login")
class Login(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @public
    @blp.doc(security=[])
    @blp.arguments(LoginIn)
    @blp.response(200, TokensOut)
    @blp.alt_response(401, description="Wrong username or password (`invalid_credentials`)")
    @blp.alt_response(423, description="Locked after repeated failures (`account_locked`)")
    @blp.alt_response(429, description="Too many attempts from this address (`rate_limited`)")
    def post(self, body):
        """Log in with username and password (登录).

        Returns a short-lived access token and a refresh token. Repeated failures lock the
        account for a while.
        """
        return service.login(**body)


@blp.route("/refresh")
class Refresh(MethodView):
    @public
    @blp.response(200, TokensOut)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self):
        """Exchange a refresh token (as the Bearer token) for a new pair.

        Each refresh token works once. Presenting a used one ends every session of that login
        (`refresh_token_reused`).
        """
        verify_jwt_in_request(refresh=True)
        return service.refresh(user=current_user, payload=get_jwt())


@blp.route("/logout")
class Logout(MethodView):
    @requires(*ALL_ROLES)
    @blp.response(204)
    def post(self):
        """Log out: the access and refresh tokens of this login stop working (退出)."""
        service.logout(user=current_user, family=g.token_family)


@blp.route("/me")
class Me(MethodView):
    @requires(*ALL_ROLES)
    @blp.response(200, UserOut)
    def get(self):
        """The logged-in user, with their tenant, unit and roles."""
        return current_user


@blp.route("/password")
class ChangePassword(MethodView):
    @requires(*ALL_ROLES)
    @blp.arguments(PasswordChangeIn)
    @blp.response(200, TokensOut)
    def post(self, body):
        """Change one's own password. Every other session ends; fresh tokens are returned."""
        return service.change_own_password(user=current_user, **body)
