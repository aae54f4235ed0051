"""Incidents (警情/求助): one citizen call as the desk records it, the repeat calls merged into it
(并单), and the per-tenant daily counter that numbers them `<tenant code>-<yyyymmdd>-<serial>`.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKeyConstraint, Index, Integer,
                        Numeric, String, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import Timestamps, id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class Source(enum.StrEnum):
    PHONE_110 = "phone_110"
    TRANSFER_12345 = "transfer_12345"  # 12345 政务服务热线 转办
    SMS = "sms"
    ONLINE = "online"
    WALK_IN = "walk_in"


class AreaType(enum.StrEnum):
    URBAN = "urban"
    SUBURBAN = "suburban"
    RURAL = "rural"


class IncidentState(enum.StrEnum):
    OPEN = "open"            # any instruction active, or none issued yet
    RESOLVED = "resolved"    # every instruction resolved
    CLOSED = "closed"        # reviewed and called back
    CANCELLED = "cancelled"  # false report
    MERGED = "merged"        # joined another incident


class Satisfaction(enum.StrEnum):
    """回访 result."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"  # means redo (重办)


SOURCE_CHECK = "source IN ('phone_110', 'transfer_12345', 'sms', 'online', 'walk_in')"


class Incident(TenantOwned, Timestamps, db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "category_id"], ["categories.tenant_id", "categories.id"]),
        ForeignKeyConstraint(["tenant_id", "merged_into_id"], ["incidents.tenant_id", "incidents.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by_user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "merged_by_user_id"], ["users.tenant_id", "users.id"]),
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint(SOURCE_CHECK, name="source_known"),
        CheckConstraint("area_type IN ('urban', 'suburban', 'rural')", name="area_type_known"),
        CheckConstraint("severity IN ('general', 'urgent', 'major')", name="severity_known"),
        CheckConstraint("route IN ('police', 'police_first', 'direct')", name="route_known"),
        CheckConstraint("state IN ('open', 'resolved', 'closed', 'cancelled', 'merged')", name="state_known"),
        CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', "
                        "'dissatisfied')", name="satisfaction_known"),
        CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("ix_incidents_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_incidents_tenant_id_state_received_at", "tenant_id", "state", "received_at"),
        # Newest first, with the id as the tiebreak the list pages by: an index walk, no sort.
        Index("ix_incidents_tenant_id_received_at_id", "tenant_id", "received_at", "id"),
    )

    id: Mapped[int] = id_column()
    number: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    caller_name: Mapped[str | None] = mapped_column(String(50))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), default="")
    area_type: Mapped[str] = mapped_column(String(16), default=AreaType.URBAN.value)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    location_accuracy_m: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(BigInteger)
    severity: Mapped[str] = mapped_column(String(16), default="general")
    route: Mapped[str] = mapped_column(String(16), default="direct")
    state: Mapped[str] = mapped_column(String(16), default=IncidentState.OPEN.value)
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    callback_note: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Character unigrams and bigrams of description + address (see incidents.text), `simple` config.
    # Written, never read back: deferred, so loading an incident (lists, board, every locked step) does not
    # fetch and parse a kilobyte of grams.
    search_vector: Mapped[str] = mapped_column(TSVECTOR, deferred=True)

    __mapper_args__ = {"version_id_col": version}


class IncidentCall(TenantOwned, db.Model):
    """A repeat call merged into an incident (并单); kept as part of it."""

    __tablename__ = "incident_calls"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "merged_by_user_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(SOURCE_CHECK, name="source_known"),
    )

    id: Mapped[int] = id_column()
    incident_id: Mapped[int] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    caller_name: Mapped[str | None] = mapped_column(String(50))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    merged_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IncidentCounter(TenantOwned, db.Model):
    """The last serial given out on one local day of a tenant: numbering is gapless per day."""

    __tablename__ = "incident_counters"
    __table_args__ = (CheckConstraint("last_serial > 0", name="last_serial_positive"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)
