"""Duty rosters (值班备勤): who of a unit is on duty when (seed Article 12).

Representation: **patterns that generate shifts on read, plus override rows**.

- `RosterPattern` (排班规则) is a rotation in the tenant's local wall-clock time: from
  `starts_on` at `start_time`, a shift of `shift_hours` starts every `every_hours`
  (null: back to back, i.e. every `shift_hours`), handed round the people of its slots
  in order (`RosterPatternSlot`, position 0, 1, ...), optionally ending with the shifts
  that start on `ends_on`. Four people at 24 h from 08:00 is one pattern with four
  slots; day/night 12 h is one with `shift_hours = 12`; a daytime-only reinforcement
  is `shift_hours = 12, every_hours = 24`. Two people on duty at once are two
  patterns. Shift k starts at local `starts_on + start_time + k * every_hours` and
  belongs to slot k mod n.
- `RosterOverride` (调班/加班/取消) is one decision about an interval in absolute time
  (stored UTC): `extra` puts a person on duty, `replace` hands the replaced person's
  duty in the interval to another (a swap is two replaces), `cancel` takes a person
  off duty in the interval. Overrides apply in the order they were made (id order),
  each to the result of the ones before, so a later decision wins.

Why not materialise shift rows? A rotation has no end, so materialised rows need a
horizon, a job to extend it, and a rewrite of every future row when the rotation
changes (someone joins, the handover moves to 09:00). Generating on read keeps one
row as the truth; a 42-day window of a 1-hour pattern is ~1000 cheap datetime sums.
Why overrides by interval rather than by "occurrence k of pattern p"? They survive
edits of the pattern, cover partial swaps ("I take 20:00-02:00 of your shift"), and
address extra shifts and cancellations with one shape.

Deleting keeps the row, marked `deleted_at`: it no longer counts anywhere and is left out
of lists, but GET by id still shows the record (a link held by someone reads "withdrawn
at ...", not a bare 404), a change to it is 409, and a repeated DELETE (a phone retrying
after a lost answer) is 204 again.

Patterns are wall-clock because the unit hands over at 08:00 local whatever the
offset: where a zone has daylight saving the shift spanning the change is an hour
shorter or longer (China has none; the tenant zone is an IANA name). A tenant that
changes its zone keeps "08:00 local". Overrides are instants; they do not move.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKeyConstraint, Index, Integer,
                        String, Time, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.models import Timestamps, id_column
from app.common.roles import UNIT_ROLES
from app.extensions import db
from app.tenants.models import TenantOwned

MAX_SHIFT_HOURS = 168
MAX_ROTATION = 50


def may_be_on_duty(user, unit_id: int) -> bool:
    """Only an active unit_liaison, unit_leader or responder of the unit may stand its duty."""
    return (user is not None and user.is_active and user.unit_id == unit_id
            and user.has_role(*UNIT_ROLES))


def _user_relationship(column: str):
    """The user a `Model.column` names, within the row's own tenant."""
    model = column.split(".")[0]
    return relationship("User", lazy="joined", viewonly=True,
                        primaryjoin=f"and_(foreign({column}) == User.id, User.tenant_id == {model}.tenant_id)")


class OverrideKind(enum.StrEnum):
    EXTRA = "extra"      # 加班: `user_id` is on duty in the interval as well
    REPLACE = "replace"  # 替班/调班: `user_id` takes `replaced_user_id`'s duty in the interval
    CANCEL = "cancel"    # 取消: `user_id` is off duty in the interval


class RosterPattern(TenantOwned, Timestamps, db.Model):
    """A recurring rotation of one unit, in the tenant's local wall-clock time."""

    __tablename__ = "roster_patterns"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        # Names are unique among a unit's live patterns; a deleted one frees its name.
        Index("uq_roster_patterns_live_name", "tenant_id", "unit_id", "name", unique=True,
              postgresql_where=text("deleted_at IS NULL")),
        CheckConstraint(f"shift_hours BETWEEN 1 AND {MAX_SHIFT_HOURS}", name="shift_hours_range"),
        CheckConstraint(f"every_hours IS NULL OR every_hours BETWEEN shift_hours AND {MAX_SHIFT_HOURS}",
                        name="every_hours_range"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)        # local date of the first shift
    start_time: Mapped[time] = mapped_column(Time)       # local wall-clock handover time
    shift_hours: Mapped[int] = mapped_column(Integer)
    # Hours from one shift's start to the next; null: back to back (keeps so when shift_hours changes).
    every_hours: Mapped[int | None] = mapped_column(Integer)
    ends_on: Mapped[date | None] = mapped_column(Date)   # last local date a shift may start on
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    slots = relationship("RosterPatternSlot", lazy="selectin", order_by="RosterPatternSlot.position",
                         cascade="all, delete-orphan", back_populates="pattern")

    @property
    def interval_hours(self) -> int:
        return self.every_hours or self.shift_hours

    @property
    def user_ids(self) -> tuple[int, ...]:
        """The rotation, in order."""
        return tuple(slot.user_id for slot in self.slots)


class RosterPatternSlot(TenantOwned, db.Model):
    """One place in a pattern's rotation. A table, not an array, so the user is a real foreign key."""

    __tablename__ = "roster_pattern_slots"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "pattern_id"], ["roster_patterns.tenant_id", "roster_patterns.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(f"position >= 0 AND position < {MAX_ROTATION}", name="position_range"),
    )

    pattern_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)

    pattern = relationship("RosterPattern", back_populates="slots")
    user = _user_relationship("RosterPatternSlot.user_id")

    @property
    def is_eligible(self) -> bool:
        return may_be_on_duty(self.user, self.pattern.unit_id)


class RosterOverride(TenantOwned, Timestamps, db.Model):
    """A one-off change to a unit's roster over an absolute interval [starts_at, ends_at)."""

    __tablename__ = "roster_overrides"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "replaced_user_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("kind IN ('extra', 'replace', 'cancel')", name="kind_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("(kind = 'replace') = (replaced_user_id IS NOT NULL)", name="replace_names_replaced"),
        CheckConstraint("replaced_user_id IS NULL OR replaced_user_id <> user_id", name="not_replacing_self"),
        # Reads look up one unit's overrides that intersect a window.
        Index("ix_roster_overrides_unit_window", "tenant_id", "unit_id", "starts_at"),
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigInteger)
    replaced_user_id: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(500), default="")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = _user_relationship("RosterOverride.user_id")
    replaced_user = _user_relationship("RosterOverride.replaced_user_id")

