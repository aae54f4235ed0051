"""Incident numbers `<tenant code>-<yyyymmdd>-<serial>`: the serial restarts each local day of the tenant.

One upsert on the tenant's counter row of that day, inside the intake transaction: the row lock
it takes serialises concurrent intakes of one tenant and day until they commit, and a rolled-back
intake gives its serial back, so the serials of a day have neither gaps nor duplicates.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from app.extensions import db

_NEXT_SERIAL = text(
    "INSERT INTO incident_counters (tenant_id, day, last_serial) VALUES (:tenant_id, :day, 1) "
    "ON CONFLICT (tenant_id, day) DO UPDATE SET last_serial = incident_counters.last_serial + 1 "
    "RETURNING last_serial")


def local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def next_number(*, tenant, moment: datetime) -> str:
    """Take the next serial of the tenant's local day of `moment`; joins the caller's transaction."""
    day = local_day(moment, tenant.time_zone)
    serial = db.session.execute(_NEXT_SERIAL, {"tenant_id": tenant.id, "day": day}).scalar_one()
    return f"{tenant.code}-{day:%Y%m%d}-{serial:04d}"
