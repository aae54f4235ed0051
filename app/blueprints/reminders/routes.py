"""An instruction's timers: /api/v1/t/<tenant_code>/instructions/<id>/timers."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.reminders import service
from app.blueprints.reminders.schemas import TimerOut
from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("reminders", __name__, url_prefix="/api/v1/t/<tenant_code>/instructions",
                description="Escalation timers (催办/督办) of an instruction")


@blp.route("/<int:instruction_id>/timers")
class InstructionTimers(MethodView):
    @requires(*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, TimerOut(many=True))
    def get(self, tenant_code, instruction_id):
        """The instruction's escalation steps: pending, fired (when, by whom, what it did) or cancelled."""
        return service.timers_of(instruction_id=instruction_id, actor=current_user)
