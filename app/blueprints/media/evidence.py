"""Evidence checks on a photo: is its capture time near the feedback's, its GPS position near the incident?

The feedback that names a photo may arrive before or after it (an offline phone), so these are
evaluated when asked, from what is in the database now, and kept on the item by the job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import any_, select

from app.blueprints.incidents.models import Incident
from app.blueprints.instructions.models import Feedback, Instruction
from app.blueprints.media.models import MediaBlob, MediaItem
from app.extensions import db

CAPTURE_FAR = "capture_time_far_from_feedback"
GPS_FAR = "gps_far_from_incident"
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Evidence:
    flags: list[str]
    feedback_id: int | None
    instruction_id: int | None
    capture_offset_minutes: float | None  # photo time minus feedback time
    distance_from_incident_m: float | None


def feedback_naming(item: MediaItem) -> Feedback | None:
    return db.session.execute(select(Feedback).where(item.id == any_(Feedback.media_ids))
                              .order_by(Feedback.id).limit(1)).scalar_one_or_none()


def instruction_id_of(item: MediaItem, feedback: Feedback | None = None) -> int | None:
    if item.instruction_id is not None:
        return item.instruction_id
    feedback = feedback if feedback is not None else feedback_naming(item)
    return feedback.instruction_id if feedback is not None else None


def incident_of(instruction_id: int | None) -> Incident | None:
    if instruction_id is None:
        return None
    return db.session.execute(select(Incident).join(
        Instruction, (Instruction.tenant_id == Incident.tenant_id) & (Instruction.incident_id == Incident.id))
        .where(Instruction.id == instruction_id)).scalar_one_or_none()


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def evaluate(item: MediaItem, blob: MediaBlob, *, skew_minutes: int, max_distance_m: int) -> Evidence:
    flags: list[str] = []
    feedback = feedback_naming(item)
    instruction_id = instruction_id_of(item, feedback)
    offset = distance = None
    if blob.taken_at is not None and feedback is not None:
        reference = feedback.client_at or feedback.at
        offset = (blob.taken_at - reference).total_seconds() / 60
        if abs(offset) > skew_minutes:
            flags.append(CAPTURE_FAR)
    incident = incident_of(instruction_id)
    if blob.gps_latitude is not None and incident is not None and incident.latitude is not None:
        distance = distance_m(float(blob.gps_latitude), float(blob.gps_longitude),
                              float(incident.latitude), float(incident.longitude))
        if distance > max_distance_m:
            flags.append(GPS_FAR)
    return Evidence(flags, feedback.id if feedback else None, instruction_id,
                    None if offset is None else round(offset, 1), None if distance is None else round(distance))

