"""What a viewer may see of an incident's caller: the one place that decides masking."""
from __future__ import annotations

from functools import cache

from app.common.roles import Role

# The desk and the linkage office see callers in full (design.md section 8).
_SEES_CALLER = (Role.DISPATCHER, Role.TENANT_ADMIN)
_UNIT_ROLES = (Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER)


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four digits of a mobile; shorter numbers keep two at the end."""
    if not phone:
        return phone
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    keep = min(2, len(phone) - 1)
    return "*" * (len(phone) - keep) + phone[len(phone) - keep:]


def mask_name(name: str | None) -> str | None:
    """张** : the first character only."""
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def may_see_caller(incident, viewer) -> bool:
    """Whether `viewer` sees this incident's caller unmasked: the desk and the office always; a unit
    user only while their unit holds an active (not returned, not cancelled) instruction on it."""
    if viewer.has_role(*_SEES_CALLER):
        return True
    if getattr(viewer, "unit_id", None) is None or not viewer.has_role(*_UNIT_ROLES):
        return False
    from app.blueprints.instructions.service import active_unit_ids  # instructions build on incidents

    return viewer.unit_id in active_unit_ids(incident_id=incident.id)


def present_caller(incident, viewer, *, caller=None) -> dict:
    """The caller fields of `incident` (or of one of its merged calls, `caller`) as `viewer` may see them."""
    source = caller if caller is not None else incident
    if may_see_caller(incident, viewer):
        return {"caller_name": source.caller_name, "caller_phone": source.caller_phone, "is_caller_masked": False}
    return {"caller_name": mask_name(source.caller_name), "caller_phone": mask_phone(source.caller_phone),
            "is_caller_masked": True}


@cache
def _incident_fields() -> tuple[str, ...]:
    """The names `IncidentOut` dumps. Built once: a marshmallow schema instance deep-copies its fields,
    which cost more than the rest of `incident_out` when a board page did it for every row."""
    from app.blueprints.incidents.schemas import IncidentOut

    return tuple(IncidentOut().fields)


def incident_out(incident, viewer, *, calls=None) -> dict:
    """An incident as `viewer` may see it (the response schemas dump this)."""
    out = {name: getattr(incident, name) for name in _incident_fields() if hasattr(incident, name)}
    out.update(present_caller(incident, viewer))
    if calls is not None:
        out["calls"] = [{**{name: getattr(call, name) for name in ("id", "received_at", "source", "description",
                                                                   "merged_by_user_id", "merged_at")},
                         **present_caller(incident, viewer, caller=call)} for call in calls]
    return out


def etag(incident) -> str:
    return f'"{incident.version}"'
