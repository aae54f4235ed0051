"""Possible duplicates of a new call (并单 candidates): open incidents of the last hours, near or alike."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select

from app.blueprints.incidents import text as search_text
from app.blueprints.incidents.models import Incident, IncidentState
from app.extensions import db

DEFAULT_WINDOW_HOURS = 6
NEAR_METRES = 300
SIMILAR_AT = 0.4       # Dice coefficient of the bigrams of description + address
CANDIDATE_LIMIT = 500  # a district records far fewer open calls within the window
EARTH_RADIUS_M = 6_371_000


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi, dlambda = phi2 - phi1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def window_hours(tenant) -> int:
    return int((tenant.settings or {}).get("duplicate_window_hours", DEFAULT_WINDOW_HOURS))


def find(*, tenant, incident: Incident, now: datetime, limit: int = 5) -> list[dict]:
    """Ranked candidates: nearness (within NEAR_METRES) and text similarity each add up to 1 to the score."""
    since = now - timedelta(hours=window_hours(tenant))
    candidates = db.session.execute(
        select(Incident).where(Incident.state == IncidentState.OPEN.value, Incident.id != incident.id,
                               Incident.received_at >= since)
        .order_by(Incident.received_at.desc()).limit(CANDIDATE_LIMIT)).scalars()
    words = f"{incident.description} {incident.address}"
    found = []
    for other in candidates:
        reasons, score, metres = [], 0.0, None
        if None not in (incident.latitude, incident.longitude, other.latitude, other.longitude):
            metres = distance_m(incident.latitude, incident.longitude, other.latitude, other.longitude)
            if metres <= NEAR_METRES:
                reasons.append("near")
                score += 1 - metres / NEAR_METRES / 2
        alike = search_text.similarity(words, f"{other.description} {other.address}")
        if alike >= SIMILAR_AT:
            reasons.append("similar_text")
            score += alike
        if reasons:
            found.append({"incident": other, "score": round(score, 3), "reasons": reasons,
                          "distance_m": None if metres is None else round(metres), "similarity": round(alike, 3)})
    found.sort(key=lambda row: (-row["score"], -row["incident"].received_at.timestamp()))
    return found[:limit]
