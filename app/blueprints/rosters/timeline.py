"""Roster arithmetic without a database: a pattern's shifts, overrides applied in order, gaps.

The service loads rows and hands them here, so these rules can be read (and tested)
on their own. Every instant is aware; results are [start, end) intervals.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Iterable, Protocol, Sequence
from zoneinfo import ZoneInfo

from app.blueprints.rosters.models import MAX_SHIFT_HOURS, OverrideKind

# How far a zone's offset can swing (daylight saving): wall-clock and UTC arithmetic
# differ by at most this, so padding a window by it never misses a shift.
_MAX_OFFSET_SWING = timedelta(hours=3)
# A shift that intersects the window may start or end this far outside it; resolving
# over the padded span lets overrides and merges outside the window shape it correctly.
PAD = timedelta(hours=MAX_SHIFT_HOURS)


class PatternLike(Protocol):
    id: int
    starts_on: object
    start_time: time
    shift_hours: int
    interval_hours: int
    ends_on: object
    user_ids: Sequence[int]


class OverrideLike(Protocol):
    id: int
    kind: str
    user_id: int
    replaced_user_id: int | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Segment:
    """A stretch of one person's duty, [starts_at, ends_at), and the rows that made it."""

    user_id: int
    starts_at: datetime
    ends_at: datetime
    pattern_ids: tuple[int, ...] = ()
    override_ids: tuple[int, ...] = ()

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time is its first occurrence, a skipped one maps forward.
    return local.replace(tzinfo=zone).astimezone(UTC)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def pattern_shifts(pattern: PatternLike, zone: ZoneInfo, start: datetime, end: datetime) -> list[Segment]:
    """The pattern's shifts that intersect [start, end), earliest first.

    Shift k runs from local `starts_on + start_time + k * interval` for `shift_hours` of
    wall-clock time, so back-to-back shifts meet exactly even across an offset change.
    """
    users = tuple(pattern.user_ids)
    if not users:
        return []
    every, length = timedelta(hours=pattern.interval_hours), timedelta(hours=pattern.shift_hours)
    anchor = datetime.combine(pattern.starts_on, pattern.start_time)
    first = max(0, (_wall(start, zone) - _MAX_OFFSET_SWING - length - anchor) // every)
    last = (_wall(end, zone) + _MAX_OFFSET_SWING - anchor) // every
    if pattern.ends_on is not None:
        last = min(last, (datetime.combine(pattern.ends_on, time.max) - anchor) // every)
    shifts = []
    for k in range(first, last + 1):
        local_start = anchor + k * every
        shift_start, shift_end = _utc(local_start, zone), _utc(local_start + length, zone)
        # A shift inside a skipped wall-clock hour has no length: it does not exist.
        if shift_start < shift_end and shift_start < end and start < shift_end:
            shifts.append(Segment(users[k % len(users)], shift_start, shift_end, pattern_ids=(pattern.id,)))
    return shifts


def _without(segment: Segment, start: datetime, end: datetime) -> list[Segment]:
    """What is left of a segment outside [start, end)."""
    left = []
    if segment.starts_at < start:
        left.append(replace(segment, ends_at=start))
    if end < segment.ends_at:
        left.append(replace(segment, starts_at=end))
    return left


def apply_override(segments: list[Segment], override: OverrideLike) -> list[Segment]:
    """One override applied to the roster as it stands."""
    start, end = override.starts_at.astimezone(UTC), override.ends_at.astimezone(UTC)
    if override.kind == OverrideKind.EXTRA:
        return [*segments, Segment(override.user_id, start, end, override_ids=(override.id,))]
    subject = override.replaced_user_id if override.kind == OverrideKind.REPLACE else override.user_id
    result = []
    for segment in segments:
        if segment.user_id != subject or not segment.overlaps(start, end):
            result.append(segment)
            continue
        result += _without(segment, start, end)
        if override.kind == OverrideKind.REPLACE:
            result.append(replace(segment, user_id=override.user_id, starts_at=max(segment.starts_at, start),
                                  ends_at=min(segment.ends_at, end),
                                  override_ids=(*segment.override_ids, override.id)))
    return result


def merge_overlaps(segments: Iterable[Segment]) -> list[Segment]:
    """One person never appears twice at once: their overlapping segments become one.

    Touching segments stay apart: they are separate shifts (a handover to oneself).
    """
    merged: list[Segment] = []
    for segment in sorted(segments, key=lambda s: (s.user_id, s.starts_at, s.ends_at)):
        last = merged[-1] if merged else None
        if last is not None and last.user_id == segment.user_id and segment.starts_at < last.ends_at:
            merged[-1] = Segment(
                last.user_id, last.starts_at, max(last.ends_at, segment.ends_at),
                pattern_ids=tuple(sorted({*last.pattern_ids, *segment.pattern_ids})),
                override_ids=tuple(sorted({*last.override_ids, *segment.override_ids})))
        else:
            merged.append(segment)
    return sorted(merged, key=lambda s: (s.starts_at, s.ends_at, s.user_id))


def resolve(patterns: Iterable[PatternLike], overrides: Iterable[OverrideLike], zone: ZoneInfo,
            start: datetime, end: datetime, *, merge: bool = True) -> list[Segment]:
    """Everyone's duty intersecting [start, end): pattern shifts, then overrides in id order.

    `overrides` should hold every override intersecting [start - PAD, end + PAD).
    """
    segments = [shift for pattern in patterns for shift in pattern_shifts(pattern, zone, start - PAD, end + PAD)]
    for override in sorted(overrides, key=lambda o: o.id):
        segments = apply_override(segments, override)
    if merge:
        segments = merge_overlaps(segments)
    return [segment for segment in segments if segment.overlaps(start, end)]


def gaps(segments: Iterable[Segment], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) that no segment covers."""
    found, cursor = [], start
    for segment in sorted(segments, key=lambda s: s.starts_at):
        if cursor >= end:
            break
        if segment.starts_at > cursor:
            found.append((cursor, min(segment.starts_at, end)))
        cursor = max(cursor, segment.ends_at)
    if cursor < end:
        found.append((cursor, end))
    return found
