"""The desk board: GET /api/v1/t/<tenant_code>/board."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from app.blueprints.board import service
from app.blueprints.board.schemas import BoardArgs, BoardRowOut
from app.common.authz import requires
from app.common.listing import PagedBlueprint
from app.common.read_cache import cached_read
from app.common.roles import Role

blp = PagedBlueprint("board", __name__, url_prefix="/api/v1/t/<tenant_code>/board",
                      description="The desk board (调度看板): incidents in hand with their instructions and clocks")


@blp.route("")
class Board(MethodView):
    @requires(Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)
    @cached_read  # consoles poll it; the next clock to run out ends an answer (service.board)
    @blp.arguments(BoardArgs, location="query")
    @blp.response(200, BoardRowOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, args, tenant_code, pagination_parameters):
        """Incidents still in hand, overdue first, then major before urgent before general, newest first;
        each with its instructions, their deadlines, which clocks have run out and any pending extension.
        Filter by incident state, severity, unit, instruction state and overdue."""
        return service.board(actor=current_user, pagination=pagination_parameters, **args)
