"""Linkage units (联动单位) of a district: /api/v1/t/<tenant_code>/units."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.units import service
from app.blueprints.units.schemas import (ContactChangeArgs, ContactChangeOut, ContactsIn, UnitCreateIn,
                                          UnitListArgs, UnitOut, UnitUpdateIn)
from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("units", __name__, url_prefix="/api/v1/t/<tenant_code>/units",
                description="Linkage units (联动单位), their duties and contacts")

READERS = (*TENANT_ROLES, Role.PROVINCIAL_SUPERVISOR)


@blp.route("")
class Units(MethodView):
    @requires(*READERS)
    @blp.arguments(UnitListArgs, location="query")
    @blp.response(200, UnitOut(many=True))
    @blp.paginate(max_page_size=200)
    def get(self, args, tenant_code, pagination_parameters):
        """The district's units in the order of its rules; filter by duty class, kind, active, name."""
        return service.list_units(pagination=pagination_parameters, **args)

    @requires(Role.TENANT_ADMIN)
    @blp.arguments(UnitCreateIn)
    @blp.response(201, UnitOut)
    @blp.alt_response(409, description="Name or short name in use (`unit_name_taken`, `unit_short_name_taken`)")
    def post(self, body, tenant_code):
        """Add a unit with its numbered responsibilities and contacts (linkage office)."""
        return service.create_unit(tenant_id=g.tenant.id, actor=current_user, **body)


@blp.route("/<int:unit_id>")
class UnitById(MethodView):
    @requires(*READERS)
    @blp.response(200, UnitOut)
    def get(self, tenant_code, unit_id):
        """One unit, with responsibilities and contacts."""
        return service.get_unit(unit_id=unit_id)

    @requires(Role.TENANT_ADMIN)
    @blp.arguments(UnitUpdateIn)
    @blp.response(200, UnitOut)
    def patch(self, body, tenant_code, unit_id):
        """Change a unit (linkage office). `responsibilities` replaces the numbered list."""
        return service.update_unit(unit_id=unit_id, actor=current_user, changes=body)


@blp.route("/<int:unit_id>/contacts")
class UnitContacts(MethodView):
    @requires(Role.TENANT_ADMIN, Role.UNIT_LIAISON)
    @blp.arguments(ContactsIn)
    @blp.response(200, UnitOut)
    def patch(self, body, tenant_code, unit_id):
        """变动报送: report new leader, liaison or duty phone. A liaison reports for their own unit only.

        Every change is kept in the unit's contact history and the linkage office is notified.
        """
        return service.update_contacts(unit_id=unit_id, actor=current_user, changes=body)


@blp.route("/<int:unit_id>/contact-changes")
class UnitContactHistory(MethodView):
    @requires(Role.TENANT_ADMIN, Role.UNIT_LIAISON, Role.UNIT_LEADER)
    @blp.arguments(ContactChangeArgs, location="query")
    @blp.response(200, ContactChangeOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, unit_id, pagination_parameters):
        """The unit's contact history, newest first: who changed what, when, before and after."""
        return service.contact_history(unit_id=unit_id, actor=current_user, pagination=pagination_parameters,
                                       **args)
