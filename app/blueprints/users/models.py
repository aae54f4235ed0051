"""User accounts.

`users` is a global identity table, not a tenant-owned one: usernames are unique
across the platform and provincial or platform users belong to no tenant. It is
still under FORCE row-level security; its policy shows a row only to its own
tenant, to the user themself, to the login of that exact username, or to platform
operations (see the migration and `app.database._user_criteria`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey,
                        ForeignKeyConstraint, Integer, String, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.models import Timestamps, id_column
from app.common.roles import Role, TENANT_ROLES, UNIT_ROLES
from app.extensions import db

_ROLE_LIST = ", ".join(f"'{role.value}'" for role in Role)


class User(Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"],
                             name="fk_users_tenant_id_unit_id_units"),
        CheckConstraint(f"roles <@ ARRAY[{_ROLE_LIST}]::varchar[]", name="roles_known"),
        CheckConstraint("cardinality(roles) > 0", name="has_a_role"),
        CheckConstraint("username = lower(btrim(username))", name="username_normalized"),
        CheckConstraint("unit_id IS NULL OR tenant_id IS NOT NULL", name="unit_needs_tenant"),
        # Lets tenant tables reference a user together with its tenant (composite foreign keys).
        UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[int] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    province_code: Mapped[str | None] = mapped_column(String(6))
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(Text)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped by a password change or deactivation: every token issued before is refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tenant = relationship("Tenant", lazy="joined", viewonly=True)
    unit = relationship("Unit", lazy="joined", viewonly=True,
                        primaryjoin="and_(foreign(User.tenant_id) == Unit.tenant_id, "
                                    "foreign(User.unit_id) == Unit.id)")

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_tenant_user(self) -> bool:
        return self.tenant_id is not None

    @property
    def is_unit_user(self) -> bool:
        return self.has_role(*UNIT_ROLES)

    @property
    def tenant_roles(self) -> set[str]:
        return set(self.roles) & set(TENANT_ROLES)
