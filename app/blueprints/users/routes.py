"""A linkage office manages its district's user accounts: /api/v1/t/<tenant_code>/users."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.users import service
from app.blueprints.users.schemas import (PasswordResetIn, UserCreateIn, UserListArgs, UserOut,
                                          UserUpdateIn)
from app.common.authz import requires
from app.common.idempotency import idempotent
from app.common.roles import Role

blp = Blueprint("users", __name__, url_prefix="/api/v1/t/<tenant_code>/users",
                description="District user accounts (用户管理), for the linkage office")


@blp.route("")
class Users(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, UserOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, pagination_parameters):
        """List the district's users; filter by role, unit, active flag or a search string."""
        return service.list_users(tenant=g.tenant, pagination=pagination_parameters, **args)

    @idempotent
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(UserCreateIn)
    @blp.response(201, UserOut)
    @blp.alt_response(409, description="Username in use (`username_taken`)")
    def post(self, body, tenant_code):
        """Create a user of this district. Unit roles need a unit of this district."""
        return service.create_user(tenant=g.tenant, actor=current_user, **body)


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.response(200, UserOut)
    def get(self, tenant_code, user_id):
        """One user of this district."""
        return service.get_user(user_id=user_id)

    @requires(Role.TENANT_ADMIN)
    @blp.arguments(UserUpdateIn)
    @blp.response(200, UserOut)
    def patch(self, body, tenant_code, user_id):
        """Change name, phone, roles, unit, active flag; or clear a lockout. Deactivation ends sessions."""
        return service.update_user(user_id=user_id, actor=current_user, changes=body)


@blp.route("/<int:user_id>/password")
class UserPassword(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(PasswordResetIn)
    @blp.response(204)
    def post(self, body, tenant_code, user_id):
        """Reset a user's password; every session of theirs ends."""
        service.reset_password(user_id=user_id, actor=current_user, **body)
