"""The district's audit log, read by its linkage office: /api/v1/t/<tenant_code>/audit-events."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.blueprints.audit import service
from app.blueprints.audit.schemas import AuditEventOut, AuditListArgs
from app.common.authz import requires
from app.common.roles import Role

blp = Blueprint("audit", __name__, url_prefix="/api/v1/t/<tenant_code>/audit-events",
                description="Audit log (审计日志): logins, user and tenant changes, every state change")


@blp.route("")
class AuditEvents(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(AuditListArgs, location="query")
    @blp.response(200, AuditEventOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, pagination_parameters):
        """Newest first; filter by action (or `auth.`-style prefix), actor, target and time."""
        return service.list_events(tenant_id=g.tenant.id, pagination=pagination_parameters, **args)
