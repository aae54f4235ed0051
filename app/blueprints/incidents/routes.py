"""Intake (接警) and incident reads: /api/v1/t/<tenant_code>/incidents."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user

from app.blueprints.incidents import desk, service, timeline
from app.blueprints.incidents.presentation import etag, incident_out
from app.blueprints.incidents.schemas import (CallOut, IncidentCreateIn, IncidentDetailOut, IncidentListArgs,
                                              IncidentOut, IncidentUpdateIn, IntakeArgs, IntakeOut, MergeCallIn, TimelineOut,
                                              CallbackIn, CancelIncidentIn, CloseIn, MergeIn, UrgeIn)
from app.common.authz import requires
from app.common.listing import PagedBlueprint
from app.common.idempotency import idempotent
from app.common.versions import expected_version
from app.common.roles import TENANT_ROLES, Role

blp = PagedBlueprint("incidents", __name__, url_prefix="/api/v1/t/<tenant_code>/incidents",
                      description="Incidents (警情): intake by the desk (接警), repeat calls (并单), search")

DESK = (Role.DISPATCHER,)
READERS = (Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)


def _with_etag(incident, body):
    return body, 200, {"ETag": etag(incident)}


@blp.route("")
class Incidents(MethodView):
    @requires(*READERS)
    @blp.arguments(IncidentListArgs, location="query")
    @blp.response(200, IncidentOut(many=True))
    @blp.paginate(max_page_size=200)
    def get(self, args, tenant_code, pagination_parameters):
        """Incidents, newest first: search `q` in description and address; filter by state, severity,
        category, source and received time."""
        incidents = service.list_incidents(pagination=pagination_parameters, **args)
        return [incident_out(incident, current_user) for incident in incidents]

    @idempotent
    @requires(*DESK)
    @blp.arguments(IntakeArgs, location="query")
    @blp.arguments(IncidentCreateIn)
    @blp.response(201, IntakeOut)
    @blp.alt_response(422, description="Invalid body, unknown category (`category_id`)")
    def post(self, args, body, tenant_code):
        """Record a call (接警). With `?suggest=true` the answer also carries routing suggestions and
        possible duplicates (open incidents nearby or with similar words in the last hours)."""
        result = service.intake(tenant=g.tenant, actor=current_user, suggest=args["suggest"], **body)
        incident = result["incident"]
        out = {**result, "incident": incident_out(incident, current_user)}
        if "duplicates" in result:
            out["duplicates"] = [{**row, "incident": incident_out(row["incident"], current_user)}
                                 for row in result["duplicates"]]
        return out, 201, {"ETag": etag(incident)}


@blp.route("/<int:incident_id>")
class IncidentById(MethodView):
    @requires(*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, IncidentDetailOut)
    @blp.alt_response(403, description="A unit user whose unit holds no instruction on it (`not_your_incident`)")
    def get(self, tenant_code, incident_id):
        """One incident with its merged calls; the `ETag` is its version (send it back as `If-Match`).
        Unit users read it while their unit holds an instruction on it; the caller is masked for them
        unless that instruction is active."""
        incident = timeline.read(incident_id=incident_id, actor=current_user)
        return _with_etag(incident, incident_out(incident, current_user, calls=service.calls_of(incident)))

    @requires(*DESK)
    @blp.arguments(IncidentUpdateIn)
    @blp.response(200, IncidentOut)
    @blp.alt_response(409, description="The incident is no longer open (`incident_not_open`)")
    @blp.alt_response(412, description="If-Match names an older version (`version_mismatch`)")
    def patch(self, body, tenant_code, incident_id):
        """Correct or classify an open incident (category, severity, route, place, description).
        A category set here is the desk's confirmed choice and teaches routing."""
        incident = service.update_incident(incident_id=incident_id, actor=current_user, changes=body,
                                           expected_version=expected_version())
        return _with_etag(incident, incident_out(incident, current_user))


@blp.route("/<int:incident_id>/merge-call")
class MergeCall(MethodView):
    @idempotent
    @requires(*DESK)
    @blp.arguments(MergeCallIn)
    @blp.response(201, CallOut)
    @blp.alt_response(409, description="The incident is no longer open (`incident_not_open`)")
    def post(self, body, tenant_code, incident_id):
        """Merge a repeat call into an open incident (并单); the call is kept as part of it."""
        call = service.merge_call(incident_id=incident_id, actor=current_user, **body)
        incident = service.get_incident(incident_id=incident_id)
        return incident_out(incident, current_user, calls=[call])["calls"][0], 201, {"ETag": etag(incident)}


@blp.route("/<int:incident_id>/timeline")
class IncidentTimeline(MethodView):
    @requires(*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, TimelineOut)
    @blp.alt_response(403, description="A unit user whose unit holds no instruction on it (`not_your_incident`)")
    def get(self, tenant_code, incident_id):
        """The incident's timeline (时间线): the intake, then every step in order with actor, server time and
        the client's claimed time. Unit users read it while their unit holds an instruction on the incident."""
        incident, events = timeline.timeline(incident_id=incident_id, actor=current_user)
        return _with_etag(incident, {"incident": incident_out(incident, current_user), "events": events})


DESK_OFFICE = (Role.DISPATCHER, Role.TENANT_ADMIN)


def _desk_action(name: str, schema, fn, doc: str):
    @idempotent
    @requires(*DESK_OFFICE)
    @blp.arguments(schema)
    @blp.response(200, IncidentOut)
    @blp.alt_response(409, description="Not allowed in the current state (`illegal_transition`), no satisfied "
                                       "callback yet (`callback_required`), a resolved instruction not reviewed "
                                       "(`review_required`), instruction not live (`instruction_not_live`), "
                                       "merge target closed (`merge_target_not_open`)")
    @blp.alt_response(412, description="Stale version (`version_mismatch`)")
    def post(self, body, tenant_code, incident_id):
        version = expected_version(body)
        incident = fn(incident_id=incident_id, actor=current_user, version=version, **body)
        return _with_etag(incident, incident_out(incident, current_user))

    post.__doc__ = doc
    return type(name, (MethodView,), {"post": post})


_DESK_ACTIONS = [
    ("urge", "Urge", UrgeIn, desk.urge,
     "Urge (催办) a unit on one live instruction with a note: a timeline step and an inbox notice to its liaison."),
    ("callback", "Callback", CallbackIn, desk.callback,
     "Callback (回访) of a resolved incident: satisfied, basically satisfied, or dissatisfied, which reopens "
     "the lead instruction (重办)."),
    ("close", "Close", CloseIn, desk.close, "Close (办结) a resolved incident after a satisfied callback."),
    ("cancel", "CancelIncident", CancelIncidentIn, desk.cancel,
     "Cancel an open incident as a false report (误报); its live instructions are cancelled with it."),
    ("merge", "MergeIncident", MergeIn, desk.merge,
     "Merge an open incident recorded twice into another (并案): it becomes `merged`, its call joins the "
     "other incident's calls, its live instructions are cancelled."),
]

for _path, _name, _schema, _fn, _doc in _DESK_ACTIONS:
    blp.route(f"/<int:incident_id>/{_path}", endpoint=_name)(_desk_action(_name, _schema, _fn, _doc))
