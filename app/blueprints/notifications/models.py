"""The notification outbox. Every message to a person is a row here first.

The `inbox` channel (in-app) is delivered by the row itself; the reminders issue adds the
external channels (sms, webhook, email) and their delivery jobs on this same table.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import id_column, utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class Notification(TenantOwned, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "recipient_user_id"], ["users.tenant_id", "users.id"],
                             ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "dedupe_key"),
        CheckConstraint("channel IN ('inbox', 'sms', 'webhook', 'email')", name="channel_known"),
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state_known"),
    )

    id: Mapped[int] = id_column()
    recipient_user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="inbox")
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    # One message per cause and recipient, however often the cause is reported.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
