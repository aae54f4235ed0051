"""Categories of the dispatch catalogue, two levels deep.

A level-1 category groups; a level-2 category is what the desk picks for a call: its lead
unit (主办), assisting units (协办), default route and severity, whether a site visit is
needed, optional time-limit overrides, and the numbered responsibilities it serves.
"""
from __future__ import annotations

import enum

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, ForeignKeyConstraint, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.models import Timestamps, id_column
from app.extensions import db
from app.tenants.models import TenantOwned


class Route(enum.StrEnum):
    """Seed Article 8."""

    POLICE = "police"              # a police matter: the police unit only
    POLICE_FIRST = "police_first"  # threatens safety: police respond first, units instructed at once
    DIRECT = "direct"              # a general matter: the desk instructs the unit directly


class Severity(enum.StrEnum):
    GENERAL = "general"
    URGENT = "urgent"
    MAJOR = "major"    # 重特大: the leadership group is notified at once


class Category(TenantOwned, Timestamps, db.Model):
    __tablename__ = "categories"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["categories.tenant_id", "categories.id"]),
        ForeignKeyConstraint(["tenant_id", "lead_unit_id"], ["units.tenant_id", "units.id"]),
        UniqueConstraint("tenant_id", "code"),
        # NULLS NOT DISTINCT: level-1 names (parent NULL) are unique too.
        UniqueConstraint("tenant_id", "parent_id", "name", postgresql_nulls_not_distinct=True),
        CheckConstraint("route IN ('police', 'police_first', 'direct')", name="route_known"),
        CheckConstraint("severity IN ('general', 'urgent', 'major')", name="severity_known"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = id_column()
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list)
    lead_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    route: Mapped[str] = mapped_column(String(16), default=Route.DIRECT.value)
    severity: Mapped[str] = mapped_column(String(16), default=Severity.GENERAL.value)
    needs_site_visit: Mapped[bool] = mapped_column(Boolean, default=True)
    # Overrides of the tenant's time-limit policy: any of ack_minutes, arrive_minutes
    # ({urban, suburban, rural}), resolve_hours, resolve_working_days.
    time_limits: Mapped[dict] = mapped_column(JSONB, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    assists = relationship("CategoryAssist", lazy="selectin", cascade="all, delete-orphan")
    served = relationship("CategoryResponsibility", lazy="selectin", cascade="all, delete-orphan")

    @property
    def level(self) -> int:
        return 1 if self.parent_id is None else 2

    @property
    def assisting_unit_ids(self) -> list[int]:
        return sorted(link.unit_id for link in self.assists)

    @property
    def responsibility_ids(self) -> list[int]:
        return sorted(link.responsibility_id for link in self.served)


class CategoryAssist(TenantOwned, db.Model):
    """An assisting unit (协办) of a category."""

    __tablename__ = "category_assists"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "category_id"], ["categories.tenant_id", "categories.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
    )

    category_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class CategoryResponsibility(TenantOwned, db.Model):
    """A numbered unit responsibility that a category serves: proves the catalogue covers the rules."""

    __tablename__ = "category_responsibilities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "category_id"], ["categories.tenant_id", "categories.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "responsibility_id"],
                             ["unit_responsibilities.tenant_id", "unit_responsibilities.id"], ondelete="CASCADE"),
    )

    category_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    responsibility_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
