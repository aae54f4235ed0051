"""Tenants: the platform's list (/api/v1/tenants) and a district's own profile (/api/v1/t/<code>)."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role
from app.tenants import service
from app.tenants.schemas import TenantCreateIn, TenantOut, TenantPlatformUpdateIn, TenantSelfUpdateIn

blp = Blueprint("tenants", __name__, url_prefix="/api/v1/tenants",
                description="Districts on the platform (租户), for platform admins and provincial supervisors")
own = Blueprint("tenant_profile", __name__, url_prefix="/api/v1/t/<tenant_code>",
                description="A district's own profile and settings")


@blp.route("")
class Tenants(MethodView):
    @requires(Role.PLATFORM_ADMIN, Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, TenantOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Every district (platform admin), or the districts of one's province (provincial supervisor)."""
        province = None if current_user.has_role(Role.PLATFORM_ADMIN) else current_user.province_code
        return service.page_tenants(pagination=pagination_parameters, province_code=province)

    @requires(Role.PLATFORM_ADMIN)
    @blp.arguments(TenantCreateIn)
    @blp.response(201, TenantOut)
    def post(self, body):
        """Provision a district, optionally from a template (e.g. `liangzhou`)."""
        return service.create_tenant(actor=current_user, **body)


@blp.route("/<code>")
class TenantByCode(MethodView):
    @requires(Role.PLATFORM_ADMIN)
    @blp.arguments(TenantPlatformUpdateIn)
    @blp.response(200, TenantOut)
    def patch(self, body, code):
        """Rename, move time zone, suspend or reactivate a district."""
        return service.update_tenant(tenant=service.get_tenant(code), actor=current_user, changes=body)


@own.route("")
class OwnTenant(MethodView):
    @requires(*TENANT_ROLES, Role.PROVINCIAL_SUPERVISOR)
    @own.response(200, TenantOut)
    def get(self, tenant_code):
        """This district's profile."""
        return g.tenant

    @requires(Role.TENANT_ADMIN)
    @own.arguments(TenantSelfUpdateIn)
    @own.response(200, TenantOut)
    def patch(self, body, tenant_code):
        """The linkage office changes its district's time zone or settings."""
        return service.update_tenant(tenant=g.tenant, actor=current_user, changes=body)
