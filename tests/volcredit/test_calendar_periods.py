"""The official calendar and period arithmetic (RULES PERIOD)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import calendar_2027_fixture
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.periods import add_calendar_days, add_months, add_working_days, age_on

CAL = WorkingCalendar()


def test_period_tiaoxiu_weekends_count_and_national_day_does_not() -> None:
    """PERIOD: 10 working days from Thu 2025-09-25 end on 2025-10-15.

    Counted: 09-26, 09-28 (Sunday 调休 working day), 09-29, 09-30, 10-09, 10-10,
    10-11 (Saturday 调休 working day), 10-13, 10-14, 10-15; 10-01..10-08 is the holiday.
    """
    assert CAL.is_workday(date(2025, 9, 28)) and CAL.is_workday(date(2025, 10, 11))
    assert not CAL.is_workday(date(2025, 10, 8))
    assert add_working_days(CAL, date(2025, 9, 25), 10) == date(2025, 10, 15)


def test_period_starts_the_day_after_the_trigger() -> None:
    """PERIOD: the triggering day itself is not counted, even when it is a working day."""
    assert add_working_days(CAL, date(2025, 11, 3), 1) == date(2025, 11, 4)  # Mon -> Tue
    assert add_working_days(CAL, date(2025, 11, 7), 1) == date(2025, 11, 10)  # Fri -> Mon


def test_period_spring_festival_2026() -> None:
    """PERIOD: Spring Festival 2026 (02-15..02-23 off; Sat 02-14 and Sat 02-28 worked)."""
    assert add_working_days(CAL, date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert add_working_days(CAL, date(2026, 2, 13), 7) == date(2026, 3, 2)


def test_period_calendar_days_ending_on_a_holiday_move_to_next_working_day() -> None:
    """PERIOD (Civil Code Art. 203): 30 days from 2025-09-01 end 10-01, a holiday -> 10-09."""
    assert add_calendar_days(CAL, date(2025, 9, 1), 30) == date(2025, 10, 9)
    # Ending on an ordinary Saturday moves to Monday; on a 调休 Saturday it stays.
    assert add_calendar_days(CAL, date(2025, 10, 15), 30) == date(2025, 11, 14)  # a Friday
    assert add_calendar_days(CAL, date(2025, 10, 16), 30) == date(2025, 11, 17)  # Sat -> Mon
    assert add_calendar_days(CAL, date(2025, 9, 11), 30) == date(2025, 10, 11)  # 调休 Saturday


def test_period_year_without_calendar_is_an_explicit_error() -> None:
    """PERIOD: a deadline in a year the calendar does not cover is an error, never a guess."""
    with pytest.raises(CalendarGapError) as gap:
        add_working_days(CAL, date(2026, 12, 28), 10)
    assert gap.value.year == 2027 and "2027" in str(gap.value)


def test_period_loaded_workdays_cover_a_new_year() -> None:
    """PERIOD: once the year's ``workdays`` are loaded, the same deadline is computed."""
    cal = WorkingCalendar(calendar_2027_fixture())
    assert cal.covers(2027) and not CAL.covers(2027)
    # 2026-12-29..31 (3), 2027-01-01..03 off, 01-04..08 (5), 01-11, 01-12 -> the 10th.
    assert add_working_days(cal, date(2026, 12, 28), 10) == date(2027, 1, 12)
    assert cal.is_workday(date(2027, 2, 20))  # a 调休 Saturday
    assert not cal.is_workday(date(2027, 2, 8))


def test_period_partial_year_is_never_a_weekends_only_guess() -> None:
    """PERIOD: a year with fewer holiday rows than the statutory minimum is not covered."""
    partial = {d: k for d, k in calendar_2027_fixture().items() if d.month == 1}
    cal = WorkingCalendar(partial)
    assert not cal.covers(2027)
    assert cal.incomplete_years() == [(2027, 3)]
    with pytest.raises(CalendarGapError):
        cal.is_workday(date(2027, 2, 8))


def test_period_loaded_workdays_override_a_bundled_day() -> None:
    cal = WorkingCalendar({date(2025, 11, 3): "holiday"})
    assert not cal.is_workday(date(2025, 11, 3)) and CAL.is_workday(date(2025, 11, 3))


@given(st.dates(date(2005, 1, 1), date(2026, 10, 31)), st.integers(1, 30))
def test_period_working_days_property(start: date, n: int) -> None:
    """PERIOD: the result is a working day and exactly n working days lie in (start, result]."""
    end = add_working_days(CAL, start, n)
    assert CAL.is_workday(end)
    days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
    assert sum(CAL.is_workday(d) for d in days) == n


@given(st.dates(date(2005, 1, 1), date(2026, 10, 31)), st.integers(1, 60))
def test_period_calendar_days_property(start: date, n: int) -> None:
    """PERIOD: never before the n-th day; only non-working days lie between it and the end."""
    end = add_calendar_days(CAL, start, n)
    nth = start + timedelta(days=n)
    assert end >= nth and CAL.is_workday(end)
    assert not any(CAL.is_workday(nth + timedelta(days=i)) for i in range((end - nth).days))


def test_months_clamp_to_month_end() -> None:
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_bj3_age_on_birthday() -> None:
    """BJ-3: a person is 18 on their 18th birthday, not the day before."""
    assert age_on(date(2008, 3, 1), date(2026, 3, 1)) == 18
    assert age_on(date(2008, 3, 1), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
