"""Chinese working days: statutory holidays off, make-up workdays (调休上班) on.

`chinese_calendar` knows each year once the State Council has published its holiday
notice (usually in November of the year before). For any year it does not know, we fall
back to Monday–Friday and say so (`is_known_year`), so a deadline computed that way can
be flagged as an estimate rather than silently wrong.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def _calendar_answer(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # the library has no data for this year
        return None


def is_known_year(year: int) -> bool:
    """Whether the holiday calendar for this year is known (its 1 January is as good as any day)."""
    return _calendar_answer(date(year, 1, 1)) is not None


def is_workday(day: date) -> bool:
    """A working day in mainland China; Monday–Friday where the calendar has no data."""
    answer = _calendar_answer(day)
    return day.weekday() < 5 if answer is None else answer


def nth_workday_after(day: date, n: int) -> date:
    """The n-th working day after `day`; `day` itself never counts, whether it is a working day or not."""
    if n < 1:
        raise ValueError("n must be at least 1")
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def span_uses_fallback(first: date, last: date) -> bool:
    """Whether any day from `first` to `last` (inclusive) was counted by the Monday–Friday fallback."""
    return any(not is_known_year(year) for year in range(first.year, last.year + 1))
