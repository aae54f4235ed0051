"""Duty rosters (值班备勤) of a district's units, and the emergency units with nobody on duty.

/api/v1/t/<tenant_code>/units/<unit_id>/roster/... and /api/v1/t/<tenant_code>/roster/gaps.
Everyone of the district reads (the desk must know who is on duty); the linkage office
changes any unit's roster, a unit's liaison or leader only their own (403 `not_your_unit`).
"""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.rosters import duty, service
from app.blueprints.rosters.schemas import (RosterAtArgs, RosterGapsOut, RosterOnDutyOut,
                                            RosterOverrideCreateIn, RosterOverrideListArgs, RosterOverrideOut,
                                            RosterOverrideUpdateIn, RosterPatternCreateIn, RosterPatternOut,
                                            RosterPatternUpdateIn, RosterWindowArgs, RosterWindowOut)
from app.common.authz import requires
from app.common.idempotency import idempotent
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("rosters", __name__, url_prefix="/api/v1/t/<tenant_code>",
                description="Duty rosters (值班备勤): rotations, one-off changes, who is on duty, gaps")

READERS = (*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
MANAGERS = (Role.TENANT_ADMIN, Role.UNIT_LIAISON, Role.UNIT_LEADER)
UNIT_ROSTER = "/units/<int:unit_id>/roster"


@blp.route(f"{UNIT_ROSTER}/patterns")
class Patterns(MethodView):
    @requires(*READERS)
    @blp.response(200, RosterPatternOut(many=True))
    @blp.paginate()
    def get(self, tenant_code, unit_id, pagination_parameters):
        """The unit's rotations (排班规则), by name."""
        return service.list_patterns(unit_id=unit_id, pagination=pagination_parameters)

    @idempotent
    @requires(*MANAGERS)
    @blp.arguments(RosterPatternCreateIn)
    @blp.response(201, RosterPatternOut)
    @blp.alt_response(409, description="Name in use in the unit (`pattern_name_taken`)")
    def post(self, body, tenant_code, unit_id):
        """Add a rotation in local wall-clock time: e.g. 24 h from 08:00 among four people."""
        return service.create_pattern(actor=current_user, unit_id=unit_id, **body)


@blp.route(f"{UNIT_ROSTER}/patterns/<int:pattern_id>")
class PatternById(MethodView):
    @requires(*READERS)
    @blp.response(200, RosterPatternOut)
    def get(self, tenant_code, unit_id, pattern_id):
        """One rotation, with whether each person may still stand duty; a deleted one shows `deleted_at`."""
        return service.get_pattern(unit_id=unit_id, pattern_id=pattern_id)

    @requires(*MANAGERS)
    @blp.arguments(RosterPatternUpdateIn)
    @blp.response(200, RosterPatternOut)
    def patch(self, body, tenant_code, unit_id, pattern_id):
        """Change a rotation. To retire it and keep its past, set `ends_on` instead of deleting."""
        return service.update_pattern(actor=current_user, unit_id=unit_id, pattern_id=pattern_id, changes=body)

    @requires(*MANAGERS)
    @blp.response(204)
    def delete(self, tenant_code, unit_id, pattern_id):
        """Withdraw a rotation, past shifts included. A repeat (a retry) answers 204 again."""
        service.delete_pattern(actor=current_user, unit_id=unit_id, pattern_id=pattern_id)


@blp.route(f"{UNIT_ROSTER}/overrides")
class Overrides(MethodView):
    @requires(*READERS)
    @blp.arguments(RosterOverrideListArgs, location="query")
    @blp.response(200, RosterOverrideOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, unit_id, pagination_parameters):
        """The unit's one-off changes, earliest first; filter by window, kind or person."""
        return service.list_overrides(unit_id=unit_id, pagination=pagination_parameters, **args)

    @idempotent
    @requires(*MANAGERS)
    @blp.arguments(RosterOverrideCreateIn)
    @blp.response(201, RosterOverrideOut)
    @blp.alt_response(409, description="`user_already_on_duty` or `not_on_duty`")
    def post(self, body, tenant_code, unit_id):
        """An extra shift (加班), a replacement (替班; a swap is two) or a cancellation."""
        return service.create_override(tenant=g.tenant, actor=current_user, unit_id=unit_id, **body)


@blp.route(f"{UNIT_ROSTER}/overrides/<int:override_id>")
class OverrideById(MethodView):
    @requires(*READERS)
    @blp.response(200, RosterOverrideOut)
    def get(self, tenant_code, unit_id, override_id):
        """One override; a withdrawn one shows `deleted_at`."""
        return service.get_override(unit_id=unit_id, override_id=override_id)

    @requires(*MANAGERS)
    @blp.arguments(RosterOverrideUpdateIn)
    @blp.response(200, RosterOverrideOut)
    def patch(self, body, tenant_code, unit_id, override_id):
        """Change who, when, or the note of an override."""
        return service.update_override(tenant=g.tenant, actor=current_user, unit_id=unit_id,
                                       override_id=override_id, changes=body)

    @requires(*MANAGERS)
    @blp.response(204)
    def delete(self, tenant_code, unit_id, override_id):
        """Withdraw an override. A repeat (a retry) answers 204 again."""
        service.delete_override(actor=current_user, unit_id=unit_id, override_id=override_id)


@blp.route(f"{UNIT_ROSTER}/shifts")
class Shifts(MethodView):
    @requires(*READERS)
    @blp.arguments(RosterWindowArgs, location="query")
    @blp.response(200, RosterWindowOut)
    def get(self, args, tenant_code, unit_id):
        """Every shift intersecting [from, to) (at most 42 days), patterns and overrides resolved."""
        return duty.window(tenant=g.tenant, unit_id=unit_id, start=args.get("window_from"),
                           end=args.get("window_to"))


@blp.route(f"{UNIT_ROSTER}/on-duty")
class OnDuty(MethodView):
    @requires(*READERS)
    @blp.arguments(RosterAtArgs, location="query")
    @blp.response(200, RosterOnDutyOut)
    def get(self, args, tenant_code, unit_id):
        """Who of the unit is on duty now (or `at`)."""
        return duty.on_duty_view(tenant=g.tenant, unit_id=unit_id, at=args.get("at"))


@blp.route("/roster/gaps")
class Gaps(MethodView):
    @requires(*READERS)
    @blp.arguments(RosterAtArgs, location="query")
    @blp.response(200, RosterGapsOut)
    def get(self, args, tenant_code):
        """Emergency units (Article 12: 24-hour duty) with nobody on duty now or in the next 24 h."""
        return duty.coverage_gaps(tenant=g.tenant, at=args.get("at"))
