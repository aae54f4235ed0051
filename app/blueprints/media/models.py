"""Media: the stored content of a photo (one per tenant and sha256) and the items that name it.

A `MediaBlob` is content: identical uploads in one tenant are stored once. A `MediaItem` is one
upload under the id the phone chose; feedback refers to items by that id, before or after upload.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, Integer, Numeric,
                        String, Uuid, func, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import utcnow
from app.extensions import db
from app.tenants.models import TenantOwned


class ProcessingState(enum.StrEnum):
    PENDING = "pending"  # original stored, display copy and thumbnail not made yet
    PROCESSING = "processing"  # claimed by a worker at claimed_at (the attempt already counted)
    READY = "ready"
    FAILED = "failed"    # gave up after MAX_ATTEMPTS failed decodes; the original is still kept


class MediaFormat(enum.StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"


_STATES = ", ".join(f"'{s.value}'" for s in ProcessingState)
_FORMATS = ", ".join(f"'{f.value}'" for f in MediaFormat)


class MediaBlob(TenantOwned, db.Model):
    """The bytes of one original, addressed by their sha256, with what decoding it told us.

    EXIF capture time, GPS position and device are evidence: kept here, never in served copies.
    """

    __tablename__ = "media_blobs"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state_known"),
        CheckConstraint(f"format IN ({_FORMATS})", name="format_known"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("(gps_latitude IS NULL) = (gps_longitude IS NULL)", name="gps_paired"),
        Index("ix_media_blobs_tenant_id_state", "tenant_id", "state"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(8))
    # As displayed, after the EXIF orientation is applied.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    orientation: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gps_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    gps_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    device_make: Mapped[str | None] = mapped_column(String(100))
    device_model: Mapped[str | None] = mapped_column(String(100))

    state: Mapped[str] = mapped_column(String(16), default=ProcessingState.PENDING.value)
    # Attempts at making the copies, each counted when claimed (committed before the work), so a
    # worker killed mid-job still used one up; storage trouble gives its attempt back.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Storage errors in a row (reading the original, writing the copies): retried with backoff.
    storage_errors: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    derived_format: Mapped[str | None] = mapped_column(String(8))
    display_bytes: Mapped[int | None] = mapped_column(BigInteger)
    thumbnail_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set by every upload of this content (a new item or a retry): retention counts from here.
    last_referenced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                         server_default=func.now())
    # Retention (MEDIA_ORIGINAL_RETENTION_DAYS): the original is deleted, the derived copies stay.
    original_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MediaItem(TenantOwned, db.Model):
    """One photo as the phone uploaded it, under the phone's id. Feedback names it by that id."""

    __tablename__ = "media_items"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "sha256"], ["media_blobs.tenant_id", "media_blobs.sha256"]),
        ForeignKeyConstraint(["tenant_id", "instruction_id"], ["instructions.tenant_id", "instructions.id"]),
        ForeignKeyConstraint(["tenant_id", "uploaded_by_user_id"], ["users.tenant_id", "users.id"]),
        Index("ix_media_items_tenant_id_instruction_id", "tenant_id", "instruction_id"),
        Index("ix_media_items_tenant_id_sha256", "tenant_id", "sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, sort_order=-5)
    sha256: Mapped[str] = mapped_column(String(64))
    instruction_id: Mapped[int | None] = mapped_column(BigInteger)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A label only, cleaned; never part of a path.
    client_filename: Mapped[str | None] = mapped_column(String(255))
    declared_type: Mapped[str | None] = mapped_column(String(100))
    # Evidence flags as last evaluated (see evidence.py); reads evaluate them afresh.
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    flags_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
