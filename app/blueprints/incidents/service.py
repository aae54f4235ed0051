"""Intake (接警): record a call as an incident, merge repeat calls (并单), read and search incidents."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, literal, select
from sqlalchemy.orm import lazyload

from app.blueprints.audit import service as audit
from app.blueprints.catalogue.models import Category, Route, Severity
from app.blueprints.incidents import duplicates
from app.blueprints.incidents import text as search_text
from app.blueprints.incidents.models import Incident, IncidentCall, IncidentState
from app.blueprints.incidents.numbering import next_number
from app.blueprints.routing import service as routing
from app.common.listing import COUNT_LIMIT, paginate, sort_clause
from app.common.models import utcnow
from app.common.sessions import keep_state_after_commit
from app.database import unit_of_work
from app.errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from app.extensions import db

# A phone's clock may run a little fast; a call cannot be received later than that.
CLOCK_SKEW = timedelta(minutes=5)
SORTABLE = {"received_at", "number", "severity", "state", "updated_at"}
_AUDITED = ("number", "source", "received_at", "address", "area_type", "latitude", "longitude",
            "location_accuracy_m", "description", "category_id", "severity", "route", "state", "version")
# Fields the desk may correct while the incident is open (PATCH).
EDITABLE = ("address", "area_type", "latitude", "longitude", "location_accuracy_m", "description",
            "category_id", "severity", "route")


def snapshot(incident: Incident) -> dict:
    """The incident for the audit trail; the caller's identity stays out of it."""
    return {field: getattr(incident, field) for field in _AUDITED}


def _check_received_at(received_at: datetime, now: datetime) -> None:
    if received_at > now + CLOCK_SKEW:
        raise Unprocessable(errors={"received_at": ["Cannot be in the future."]})


def _level_two_category(category_id: int) -> Category:
    # The category's own columns only: its assists and served duties (selectin) are not needed here.
    category = db.session.execute(select(Category).where(Category.id == category_id)
                                  .options(lazyload(Category.assists), lazyload(Category.served))
                                  ).scalar_one_or_none()
    if category is None or category.parent_id is None or not category.is_active:
        raise Unprocessable("category_not_found", "No such active level-2 category in this district.",
                            errors={"category_id": ["Unknown level-2 category."]})
    return category


def _confirm_category(uow, incident: Incident, actor) -> None:
    """The desk's choice teaches routing; it joins this transaction (routing.record_confirmed_choice)."""
    routing.record_confirmed_choice(tenant_id=incident.tenant_id, text=incident.description,
                                    category_id=incident.category_id, source="incident",
                                    source_ref=incident.number, confirmed_by_user_id=actor.id, uow=uow)


def intake(*, tenant, actor, source: str, description: str, address: str = "", area_type: str = "urban",
           received_at: datetime | None = None, caller_name: str | None = None, caller_phone: str | None = None,
           latitude: float | None = None, longitude: float | None = None, location_accuracy_m: int | None = None,
           category_id: int | None = None, severity: str | None = None, route: str | None = None,
           suggest: bool = False, now: datetime | None = None) -> dict:
    """Record a call (接警): number it, store it, audit it; optionally suggest categories and duplicates.

    Severity and route default to the category's, else general and direct."""
    now = now or utcnow()
    received_at = received_at or now
    _check_received_at(received_at, now)
    keep_state_after_commit()  # the route answers with the incident as written
    with unit_of_work() as uow:
        category = _level_two_category(category_id) if category_id is not None else None
        incident = Incident(
            tenant_id=tenant.id, source=source, received_at=received_at, caller_name=caller_name,
            caller_phone=caller_phone, address=address, area_type=area_type, latitude=latitude,
            longitude=longitude, location_accuracy_m=location_accuracy_m, description=description,
            category_id=category_id, state=IncidentState.OPEN.value, created_by_user_id=actor.id,
            severity=severity or (category.severity if category else Severity.GENERAL.value),
            route=route or (category.route if category else Route.DIRECT.value),
            search_vector=search_text.search_vector(description, address))
        # Numbered last: the counter row stays locked until commit, so hold it as briefly as we can.
        incident.number = next_number(tenant=tenant, moment=received_at)
        db.session.add(incident)
        db.session.flush()
        if category is not None:
            _confirm_category(uow, incident, actor)
        audit.record("incident.received", tenant_id=tenant.id, actor=actor, target_type="incident",
                     target_id=incident.id, after=snapshot(incident))
    result = {"incident": incident}
    if suggest:
        result["suggestions"] = routing.suggest(tenant=tenant, text=description)
        result["duplicates"] = duplicates.find(tenant=tenant, incident=incident, now=now)
        db.session.commit()  # end the read transaction
    return result


def get_incident(*, incident_id: int, for_update: bool = False) -> Incident:
    statement = select(Incident).where(Incident.id == incident_id)
    if for_update:
        statement = statement.with_for_update()
    incident = db.session.execute(statement).scalar_one_or_none()
    if incident is None:
        raise NotFound("incident_not_found", "No such incident.")
    return incident


def check_version(incident: Incident, expected_version: int | None) -> None:
    """412 when the client's If-Match names another version than the stored one."""
    if expected_version is not None and expected_version != incident.version:
        raise PreconditionFailed(
            "version_mismatch", f"The incident is at version {incident.version}; reload and retry.")


def _check_open(incident: Incident) -> None:
    if incident.state != IncidentState.OPEN.value:
        raise Conflict("incident_not_open", f"The incident is {incident.state}.")


def update_incident(*, incident_id: int, actor, changes: dict, expected_version: int | None = None) -> Incident:
    """The desk corrects or classifies an open incident; a new category is confirmed to routing."""
    with unit_of_work() as uow:
        incident = get_incident(incident_id=incident_id, for_update=True)
        check_version(incident, expected_version)
        _check_open(incident)
        before = snapshot(incident)
        if changes.get("category_id") is not None:
            _level_two_category(changes["category_id"])
        if ("latitude" in changes) != ("longitude" in changes):
            raise Unprocessable(errors={"latitude": ["Give latitude and longitude together."]})
        for field, value in changes.items():
            setattr(incident, field, value)
        if "description" in changes or "address" in changes:
            incident.search_vector = search_text.search_vector(incident.description, incident.address)
        if not changes:
            return incident
        db.session.flush()
        if incident.category_id is not None and ("category_id" in changes or "description" in changes):
            _confirm_category(uow, incident, actor)
        audit.record("incident.updated", tenant_id=incident.tenant_id, actor=actor, target_type="incident",
                     target_id=incident.id, before=before, after=snapshot(incident))
    return incident


def merge_call(*, incident_id: int, actor, source: str, description: str = "", received_at: datetime | None = None,
               caller_name: str | None = None, caller_phone: str | None = None,
               now: datetime | None = None) -> IncidentCall:
    """并单: a repeat call about an open incident joins it and is kept as part of it."""
    now = now or utcnow()
    received_at = received_at or now
    _check_received_at(received_at, now)
    with unit_of_work():
        incident = get_incident(incident_id=incident_id, for_update=True)
        _check_open(incident)
        call = IncidentCall(tenant_id=incident.tenant_id, incident_id=incident.id, received_at=received_at,
                            source=source, caller_name=caller_name, caller_phone=caller_phone,
                            description=description, merged_by_user_id=actor.id, merged_at=now)
        db.session.add(call)
        incident.updated_at = now  # a new version: the incident now holds one more call
        db.session.flush()
        audit.record("incident.call_merged", tenant_id=incident.tenant_id, actor=actor, target_type="incident",
                     target_id=incident.id, after={"call_id": call.id, "source": source,
                                                   "received_at": received_at, "description": description})
    return call


def calls_of(incident: Incident) -> list[IncidentCall]:
    return list(db.session.execute(select(IncidentCall).where(IncidentCall.incident_id == incident.id)
                                   .order_by(IncidentCall.received_at, IncidentCall.id)).scalars())


def list_incidents(*, pagination, q: str | None = None, state: list[str] | None = None,
                   severity: list[str] | None = None, category_id: int | None = None, source: str | None = None,
                   received_since: datetime | None = None, received_until: datetime | None = None,
                   sort: str = "-received_at") -> list[Incident]:
    """Incidents, newest first; `q` is a substring of the description or address (bigram index, then recheck)."""
    statement = select(Incident)
    if q:
        query = search_text.search_query(q)
        if query is not None:
            statement = statement.where(Incident.search_vector.op("@@")(query))
        # The grams narrow through the GIN index; the substring test makes the match exact.
        haystack = Incident.description + literal("\n") + Incident.address
        statement = statement.where(func.strpos(func.lower(haystack), q.lower()) > 0)
    if state:
        statement = statement.where(Incident.state.in_(state))
    if severity:
        statement = statement.where(Incident.severity.in_(severity))
    if category_id is not None:
        statement = statement.where(Incident.category_id == category_id)
    if source:
        statement = statement.where(Incident.source == source)
    if received_since is not None:
        statement = statement.where(Incident.received_at >= received_since)
    if received_until is not None:
        statement = statement.where(Incident.received_at < received_until)
    try:
        order = sort_clause(Incident, sort, SORTABLE)
    except ValueError:
        raise Unprocessable(errors={"sort": [f"Sort by one of {sorted(SORTABLE)}, '-' for descending."]}) from None
    return paginate(statement.order_by(order), pagination, tiebreak=Incident.id.desc(), count_limit=COUNT_LIMIT)


def search_statement(q: str):
    """The search query alone (tests EXPLAIN it)."""
    return select(Incident.id).where(Incident.search_vector.op("@@")(search_text.search_query(q)))


