"""Refresh-token families: the server-side truth that makes revocation durable.

A login starts a family. Each refresh rotates the family's current token id; a
refresh token that is not the current one is a replay, and revokes the family
(except the one just rotated out, presented again within a few seconds: a retry).
Access tokens name their family, so logging out (revoking the family) also ends
them. All of it is in PostgreSQL, so a Redis restart forgets nothing.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import utcnow
from app.extensions import db


class TokenFamily(db.Model):
    __tablename__ = "token_families"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    current_jti: Mapped[str] = mapped_column(String(36))
    # The token rotated out last: a retry of a refresh whose answer was lost on a bad network
    # presents it again within the grace period (REFRESH_RETRY_GRACE_SECONDS).
    previous_jti: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
