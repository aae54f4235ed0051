"""Column shapes shared by many tables."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Identity, func
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_column() -> Mapped[int]:
    # The insert sentinel: with a composite key (tenant_id, id) SQLAlchemy finds no autoincrement column
    # and would insert a flush's rows one statement at a time; IDENTITY values follow the order of a
    # multi-row INSERT, so marking `id` lets it send them as batches ("insertmanyvalues").
    return mapped_column(BigInteger, Identity(), primary_key=True, sort_order=-5, insert_sentinel=True)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, sort_order=90)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, onupdate=utcnow,
        sort_order=91)
