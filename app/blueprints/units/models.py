"""A linkage unit (联动单位): a government department or utility with duties in the linkage."""
from __future__ import annotations

import enum

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import Timestamps, id_column
from app.extensions import db
from app.tenants.models import TenantOwned


class DutyClass(enum.StrEnum):
    """Seed Article 12: how a unit must keep watch."""

    EMERGENCY = "emergency"  # 24-hour rescue teams: police, medical, power, water, gas, municipal...
    STANDARD = "standard"    # a phone on duty, sends people on instruction: civil affairs, commerce...
    OTHER = "other"          # other units and towns: send people when instructed


class Unit(TenantOwned, Timestamps, db.Model):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("duty_class IN ('emergency', 'standard', 'other')", name="duty_class_known"),
    )

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(30))
    duty_class: Mapped[str] = mapped_column(String(16), default=DutyClass.STANDARD.value)
    is_police: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
