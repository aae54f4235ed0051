"""The notification outbox, and where the external channels deliver. Every message to a person
(or a unit's system) is a row here first, written in the transaction that caused it.

`inbox` rows are delivered by being stored (state `sent` at once). `sms`, `webhook` and `email`
rows start `pending`; delivery jobs claim them, send, and record `sent`, or retry with backoff
until `failed` (docs/reminders.md).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKeyConstraint, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import Timestamps, id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class Channel(enum.StrEnum):
    INBOX = "inbox"      # 站内消息
    SMS = "sms"          # 短信, through the tenant's HTTP SMS gateway
    WEBHOOK = "webhook"  # a unit's own system, HMAC-signed
    EMAIL = "email"      # SMTP


EXTERNAL = (Channel.SMS, Channel.WEBHOOK, Channel.EMAIL)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(TenantOwned, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "recipient_user_id"], ["users.tenant_id", "users.id"],
                             ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "dedupe_key"),
        CheckConstraint("channel IN ('inbox', 'sms', 'webhook', 'email')", name="channel_known"),
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state_known"),
        # The delivery claim: external rows still to send, in the order they are due.
        Index("ix_notifications_due", "tenant_id", "next_attempt_at", postgresql_where="state = 'pending'"),
    )

    id: Mapped[int] = id_column()
    recipient_user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # A unit's webhook or mailbox: the message is for the unit, not one person.
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16), default="inbox")
    # Phone number, webhook URL or e-mail address, fixed when the row was written.
    address: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    # One message per cause, recipient and channel, however often the cause is reported. Also sent
    # to the gateway / webhook as the idempotency key, so a resend after a crash is recognisable.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Endpoint(TenantOwned, Timestamps, db.Model):
    """Where an external channel delivers: the tenant's SMS gateway (no unit), a unit's webhook,
    a unit's mailbox or the linkage office's mailbox (e-mail without a unit)."""

    __tablename__ = "notification_endpoints"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "channel", "unit_id", postgresql_nulls_not_distinct=True),
        CheckConstraint("channel IN ('sms', 'webhook', 'email')", name="channel_known"),
        CheckConstraint("channel <> 'sms' OR unit_id IS NULL", name="sms_gateway_per_tenant"),
        CheckConstraint("channel <> 'webhook' OR (unit_id IS NOT NULL AND secret IS NOT NULL)",
                        name="webhook_per_unit_signed"),
    )

    id: Mapped[int] = id_column()
    channel: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    target: Mapped[str] = mapped_column(String(500))            # URL, or an e-mail address
    secret: Mapped[str | None] = mapped_column(String(200))     # HMAC key (webhook, SMS gateway)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
