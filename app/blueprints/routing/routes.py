"""Routing suggestions for the desk: /api/v1/t/<tenant_code>/routing."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.blueprints.routing import service
from app.blueprints.routing.schemas import SuggestIn, SuggestOut
from app.common.authz import requires
from app.common.roles import Role

blp = Blueprint("routing", __name__, url_prefix="/api/v1/t/<tenant_code>/routing",
                description="Routing suggestions (分派建议): categories and units for a caller's words")


@blp.route("/suggest")
class Suggest(MethodView):
    @requires(Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER)
    @blp.arguments(SuggestIn)
    @blp.response(200, SuggestOut)
    def post(self, body, tenant_code):
        """Rank the level-2 categories a caller's words point to, with lead and assisting units,
        route, severity, a score and the matched terms. Several problems in one call are each
        ranked; the desk always has the last word. Reads only: nothing is stored."""
        return service.suggest(tenant=g.tenant, **body)
