"""What the suggester learns from: confirmed examples, and the model trained from them.

`RoutingExample` rows come from the desk confirming a category for a call (the incidents
domain calls `service.record_confirmed_choice`). `RoutingModel` rows are the trained
term→category weights, one row per version, so every API process loads the same model
from PostgreSQL instead of training its own.
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

# Where a confirmed example came from. 'incident': the desk confirmed the category of a
# call; 'manual': the linkage office taught it by hand. Nothing else feeds learning; in
# particular the labelled accuracy set (bench/routing) never does.
EXAMPLE_SOURCES = ("incident", "manual")


class RoutingExample(TenantOwned, db.Model):
    """A call text and the category the desk confirmed for it (确认分类)."""

    __tablename__ = "routing_examples"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "category_id"], ["categories.tenant_id", "categories.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "confirmed_by_user_id"], ["users.tenant_id", "users.id"]),
        # One example per confirmed thing (an incident): re-confirming replaces, never piles up.
        UniqueConstraint("tenant_id", "source", "source_ref"),
        CheckConstraint("source IN ('incident', 'manual')", name="source_known"),
    )

    id: Mapped[int] = id_column()
    text: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoutingModel(TenantOwned, db.Model):
    """One trained version of a tenant's learned weights (JSON: term → {category id: weight})."""

    __tablename__ = "routing_models"
    __table_args__ = (
        UniqueConstraint("tenant_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = id_column()
    version: Mapped[int] = mapped_column(Integer)
    # The text analysis the weights were computed with; a model of another analyzer is ignored.
    analyzer_version: Mapped[int] = mapped_column(Integer)
    # sha256 over the examples trained on: a rerun over the same rows trains nothing new.
    examples_digest: Mapped[str] = mapped_column(String(64))
    example_count: Mapped[int] = mapped_column(Integer)
    weights: Mapped[dict] = mapped_column(JSONB)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last time a training run found this model current (duplicate runs record themselves here).
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
