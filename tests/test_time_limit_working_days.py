"""Working days follow the Chinese calendar: holidays off, make-up workdays on, Monday–Friday where unknown.

2025 Spring Festival: 28 Jan – 4 Feb off, Sunday 26 Jan and Saturday 8 Feb worked.
2026 Spring Festival: 15 – 23 Feb off, Saturday 14 Feb and Saturday 28 Feb worked.
"""
from __future__ import annotations

from datetime import date

import pytest

from app.blueprints.timelimits.workdays import is_known_year, is_workday, nth_workday_after, span_uses_fallback

UNKNOWN_YEAR = 2099  # far beyond any holiday notice the calendar package can carry


def test_spring_festival_days_are_off_even_on_weekdays():
    assert not is_workday(date(2025, 1, 28))  # Tuesday, New Year's Eve
    assert not is_workday(date(2025, 2, 4))   # Tuesday, last day off
    assert not is_workday(date(2026, 2, 16))  # Monday
    assert not is_workday(date(2026, 2, 23))  # Monday, last day off


def test_make_up_weekend_days_are_worked():
    assert is_workday(date(2025, 1, 26))  # Sunday
    assert is_workday(date(2025, 2, 8))   # Saturday
    assert is_workday(date(2026, 2, 14))  # Saturday
    assert is_workday(date(2026, 2, 28))  # Saturday


def test_an_ordinary_week_is_monday_to_friday():
    assert [is_workday(date(2025, 3, day)) for day in range(3, 10)] == [True] * 5 + [False] * 2


def test_the_nth_working_day_skips_the_festival_and_counts_make_up_days():
    assert nth_workday_after(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert nth_workday_after(date(2025, 2, 7), 1) == date(2025, 2, 8)   # the make-up Saturday
    assert nth_workday_after(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert nth_workday_after(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_the_start_day_never_counts_whether_worked_or_not():
    assert nth_workday_after(date(2025, 3, 3), 1) == date(2025, 3, 4)   # from a Monday
    assert nth_workday_after(date(2025, 3, 1), 1) == date(2025, 3, 3)   # from a Saturday
    assert nth_workday_after(date(2025, 1, 29), 1) == date(2025, 2, 5)  # from a festival day


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday():
    assert not is_known_year(UNKNOWN_YEAR)
    assert is_known_year(2025)
    assert is_workday(date(UNKNOWN_YEAR, 12, 31))     # a Thursday
    assert not is_workday(date(UNKNOWN_YEAR, 12, 26))  # a Saturday
    assert is_workday(date(UNKNOWN_YEAR + 1, 1, 1))    # New Year's Day, a Friday: unknown, so worked
    assert nth_workday_after(date(UNKNOWN_YEAR, 12, 31), 2) == date(UNKNOWN_YEAR + 1, 1, 4)
    assert span_uses_fallback(date(UNKNOWN_YEAR, 12, 31), date(UNKNOWN_YEAR + 1, 1, 4))
    assert not span_uses_fallback(date(2025, 1, 27), date(2025, 2, 5))


def test_counting_needs_at_least_one_day():
    with pytest.raises(ValueError):
        nth_workday_after(date(2025, 3, 3), 0)
