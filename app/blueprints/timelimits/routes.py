"""A district's time-limit policy (时限) and a deadline preview: /api/v1/t/<tenant_code>/time-limits."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.timelimits import service
from app.blueprints.timelimits.schemas import (EscalationStepOut, EscalationStepPatchIn, PolicyOut, PreviewIn,
                                               PreviewOut, TimeLimitDefaultOut, TimeLimitDefaultPatchIn)
from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("time_limits", __name__, url_prefix="/api/v1/t/<tenant_code>/time-limits",
                description="Time limits by duty class and severity, escalation steps (催办/督办), deadlines")


@blp.route("")
class TimeLimitPolicy(MethodView):
    @requires(*TENANT_ROLES, Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, PolicyOut)
    def get(self, tenant_code):
        """The district's policy: the limits of each duty class and severity, and the escalation steps."""
        return service.get_policy(tenant=g.tenant)


@blp.route("/defaults/<int:time_limit_id>")
class TimeLimitDefaultById(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(TimeLimitDefaultPatchIn)
    @blp.response(200, TimeLimitDefaultOut)
    def patch(self, body, tenant_code, time_limit_id):
        """Change the limits of one duty class at one severity. Resolve in hours or working days, not both."""
        return service.update_default(time_limit_id=time_limit_id, actor=current_user, changes=body)


@blp.route("/escalation-steps/<int:escalation_step_id>")
class EscalationStepById(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(EscalationStepPatchIn)
    @blp.response(200, EscalationStepOut)
    def patch(self, body, tenant_code, escalation_step_id):
        """Change when an escalation step fires, whom it reaches, or switch it off. Steps keep their order."""
        return service.update_step(escalation_step_id=escalation_step_id, actor=current_user, changes=body)


@blp.route("/preview")
class DeadlinePreview(MethodView):
    @requires(*TENANT_ROLES)
    @blp.arguments(PreviewIn)
    @blp.response(200, PreviewOut)
    def post(self, body, tenant_code):
        """The deadlines and escalations an instruction issued at `issued_at` would get. Changes nothing."""
        return service.preview(tenant=g.tenant, **body)
