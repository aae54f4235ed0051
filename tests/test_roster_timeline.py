"""The roster arithmetic on its own (app/blueprints/rosters/timeline.py), without a database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.blueprints.rosters import timeline
from app.blueprints.rosters.timeline import Segment

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


@dataclass
class Pattern:
    id: int
    user_ids: tuple[int, ...]
    starts_on: date = date(2026, 3, 1)
    start_time: time = time(8, 0)
    shift_hours: int = 24
    every_hours: int | None = None
    ends_on: date | None = None

    @property
    def interval_hours(self) -> int:
        return self.every_hours or self.shift_hours


@dataclass
class Override:
    id: int
    kind: str
    user_id: int
    starts_at: datetime
    ends_at: datetime
    replaced_user_id: int | None = None


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(segments) -> list[tuple[int, str, str]]:
    return [(s.user_id, s.starts_at.strftime("%m-%d %H:%M"), s.ends_at.strftime("%m-%d %H:%M")) for s in segments]


def test_one_hour_shifts_across_the_spring_forward_night_skip_the_missing_hour():
    pattern = Pattern(1, (1, 2), starts_on=date(2026, 3, 8), start_time=time(0, 0), shift_hours=1)
    found = timeline.pattern_shifts(pattern, NEW_YORK, utc("2026-03-08 05:00"), utc("2026-03-08 09:00"))
    local = [(s.user_id, s.starts_at.astimezone(NEW_YORK).strftime("%H:%M")) for s in found]
    # 02:00-03:00 does not exist on 2026-03-08 in New York: shift 2 (person 1's) has no length
    # and is dropped; the rotation carries on by the clock, so person 2 has 01:00 and 03:00.
    assert local == [(1, "00:00"), (2, "01:00"), (2, "03:00"), (1, "04:00")]


def test_the_fall_back_night_shift_lasts_one_hour_longer():
    pattern = Pattern(1, (1,), starts_on=date(2026, 10, 31), start_time=time(20, 0), shift_hours=12, every_hours=24)
    [shift] = timeline.pattern_shifts(pattern, NEW_YORK, utc("2026-11-01 06:00"), utc("2026-11-01 07:00"))
    assert shift.ends_at - shift.starts_at == timedelta(hours=13)
    assert shift.ends_at.astimezone(NEW_YORK).strftime("%H:%M") == "08:00"


def test_overrides_apply_in_the_order_they_were_made():
    shift = Segment(1, utc("2026-03-01 00:00"), utc("2026-03-02 00:00"))
    cancel = Override(5, "cancel", 2, utc("2026-03-01 06:00"), utc("2026-03-01 12:00"))
    replace = Override(4, "replace", 2, utc("2026-03-01 06:00"), utc("2026-03-01 18:00"), replaced_user_id=1)
    result = [shift]
    for override in sorted([cancel, replace], key=lambda o: o.id):
        result = timeline.apply_override(result, override)
    # 1 is replaced by 2 for 06-18, then 2 is cancelled for 06-12.
    assert sorted(spans(result)) == [(1, "03-01 00:00", "03-01 06:00"), (1, "03-01 18:00", "03-02 00:00"),
                                     (2, "03-01 12:00", "03-01 18:00")]


def test_merging_joins_a_persons_overlaps_but_keeps_touching_shifts_apart():
    segments = [Segment(1, utc("2026-03-01 00:00"), utc("2026-03-01 12:00"), pattern_ids=(1,)),
                Segment(1, utc("2026-03-01 06:00"), utc("2026-03-01 18:00"), override_ids=(9,)),
                Segment(1, utc("2026-03-01 18:00"), utc("2026-03-02 00:00"), pattern_ids=(1,)),
                Segment(2, utc("2026-03-01 06:00"), utc("2026-03-01 07:00"))]
    merged = timeline.merge_overlaps(segments)
    assert spans(merged) == [(1, "03-01 00:00", "03-01 18:00"), (2, "03-01 06:00", "03-01 07:00"),
                             (1, "03-01 18:00", "03-02 00:00")]
    assert (merged[0].pattern_ids, merged[0].override_ids) == ((1,), (9,))


def test_gaps_are_the_uncovered_parts_of_the_window():
    start, end = utc("2026-03-01 00:00"), utc("2026-03-02 00:00")
    segments = [Segment(1, utc("2026-02-28 20:00"), utc("2026-03-01 04:00")),
                Segment(2, utc("2026-03-01 03:00"), utc("2026-03-01 06:00")),
                Segment(3, utc("2026-03-01 10:00"), utc("2026-03-01 12:00")),
                Segment(4, utc("2026-03-02 00:00"), utc("2026-03-02 06:00"))]
    assert timeline.gaps(segments, start, end) == [(utc("2026-03-01 06:00"), utc("2026-03-01 10:00")),
                                                   (utc("2026-03-01 12:00"), end)]
    assert timeline.gaps([], start, end) == [(start, end)]


def test_a_window_far_from_the_anchor_is_computed_without_walking_there():
    pattern = Pattern(1, (1, 2, 3, 4), starts_on=date(2000, 1, 1))
    found = timeline.resolve([pattern], [], SHANGHAI, utc("2099-06-01 00:00"), utc("2099-06-01 00:01"))
    days = (date(2099, 6, 1) - date(2000, 1, 1)).days  # 08:00 Shanghai is 00:00 UTC: day `days` starts then
    assert [s.user_id for s in found] == [1 + days % 4]
