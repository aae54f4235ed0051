"""Audit events: one hash chain per tenant, and one for platform events.

Each event stores the hash of its predecessor; the chain heads (`audit_chain_heads` per
tenant, `platform_audit_head`) hold the last sequence number and hash of every chain, so
deleting the newest rows shows too.
The app role may INSERT these rows but never UPDATE or DELETE them (migration).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class AuditColumns:
    id: Mapped[int] = id_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(TenantOwned, AuditColumns, db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"),)


class PlatformAuditEvent(AuditColumns, db.Model):
    """Events outside any tenant: provincial and platform logins, unknown usernames, tenant creation."""

    __tablename__ = "platform_audit_events"
    __table_args__ = (UniqueConstraint("seq"),)


class HeadColumns:
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(TenantOwned, HeadColumns, db.Model):
    """The newest event of one tenant's chain; locked while appending."""

    __tablename__ = "audit_chain_heads"


class PlatformAuditHead(HeadColumns, db.Model):
    """The newest event of the platform chain: a single row."""

    __tablename__ = "platform_audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
