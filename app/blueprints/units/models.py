"""A linkage unit (联动单位): a department or utility with duties in the linkage, and its contacts.

Seed Article 6: every unit names a leader in charge (分管负责人) and a liaison (联络员) and
reports changes to the linkage office (变动报送); `UnitContactChange` keeps that history.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKeyConstraint, Integer,
                        String, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.models import Timestamps, id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class DutyClass(enum.StrEnum):
    """Seed Article 12: how a unit must keep watch."""

    EMERGENCY = "emergency"  # 24-hour rescue teams: police, medical, power, water, gas, municipal...
    STANDARD = "standard"    # a phone on duty, sends people on instruction: civil affairs, commerce...
    OTHER = "other"          # other units and towns: send people when instructed


class UnitKind(enum.StrEnum):
    POLICE = "police"          # takes `police` and `police_first` instructions (区公安局)
    SUPERVISOR = "supervisor"  # supervises, is not instructed (区督查办)
    LINKAGE = "linkage"        # every other linkage unit


CONTACT_FIELDS = ("duty_phone", "leader_name", "leader_title", "leader_phone",
                  "liaison_name", "liaison_title", "liaison_phone")


class Unit(TenantOwned, Timestamps, db.Model):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("duty_class IN ('emergency', 'standard', 'other')", name="duty_class_known"),
        CheckConstraint("kind IN ('police', 'supervisor', 'linkage')", name="kind_known"),
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "short_name"),
    )

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(30))
    duty_class: Mapped[str] = mapped_column(String(16), default=DutyClass.STANDARD.value)
    kind: Mapped[str] = mapped_column(String(16), default=UnitKind.LINKAGE.value)
    duty_phone: Mapped[str | None] = mapped_column(String(32))
    leader_name: Mapped[str | None] = mapped_column(String(50))
    leader_title: Mapped[str | None] = mapped_column(String(50))
    leader_phone: Mapped[str | None] = mapped_column(String(32))
    liaison_name: Mapped[str | None] = mapped_column(String(50))
    liaison_title: Mapped[str | None] = mapped_column(String(50))
    liaison_phone: Mapped[str | None] = mapped_column(String(32))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    # Loaded when read (lists that show them ask for `selectinload`): users join their unit on every token
    # check and in every recipients query, and a selectin of duties each time was a statement for nothing.
    responsibilities = relationship("Responsibility", lazy="select", order_by="Responsibility.number",
                                    cascade="all, delete-orphan", back_populates="unit")

    @property
    def is_police(self) -> bool:
        return self.kind == UnitKind.POLICE

    def contacts(self) -> dict:
        return {field: getattr(self, field) for field in CONTACT_FIELDS}


class Responsibility(TenantOwned, db.Model):
    """One numbered duty of a unit, as in Chapter 3 of the district rules (e.g. 区民政局 2.)."""

    __tablename__ = "unit_responsibilities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "unit_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    unit = relationship("Unit", back_populates="responsibilities")


class UnitContactChange(TenantOwned, db.Model):
    """变动报送: one change of a unit's leader, liaison or duty phone, with before and after."""

    __tablename__ = "unit_contact_changes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "changed_by_user_id"], ["users.tenant_id", "users.id"]),
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(BigInteger, index=True)
    changed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    before: Mapped[dict] = mapped_column(JSONB)
    after: Mapped[dict] = mapped_column(JSONB)
