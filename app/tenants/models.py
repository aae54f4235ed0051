"""The tenant (one district) and the mixin every tenant-owned table uses."""
from __future__ import annotations

import enum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.common.models import Timestamps, id_column
from app.extensions import db


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(Timestamps, db.Model):
    """A district (区/县) using Liandong. Shared lookup table: no RLS, no tenant_id."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{6}$'", name="code_is_division_code"),
        CheckConstraint("province_code ~ '^[0-9]{2}0000$'", name="province_code_format"),
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
    )

    id: Mapped[int] = id_column()
    # The administrative division code (行政区划代码) of the district, e.g. 620602 for 凉州区.
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[str] = mapped_column(String(6), index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE.value)
    settings: Mapped[dict] = mapped_column(JSONB, default=dict)

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE


def province_of(division_code: str) -> str:
    """Province code of a division code: its first two digits, then 0000."""
    return division_code[:2] + "0000"


class TenantOwned:
    """Mixin for tenant-owned tables: `tenant_id` leads the primary key.

    The ORM filter (app.database) and the RLS policy created by the migration both
    key on this column; composite foreign keys must include it.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True, sort_order=-10)
