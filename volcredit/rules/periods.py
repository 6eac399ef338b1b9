"""Period arithmetic (RULES PERIOD, Civil Code Art. 201 and 203).

A period runs from the day after the triggering date. "N working days" counts official working days
only; for "N days" the period ends on the N-th calendar day, moved to the next working day when
that day is a statutory holiday or a rest day. Publicity windows in months (PUB-4) are counted from
the decision date with calendar months.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from volcredit.rules.calendar import WorkingCalendar

ONE_DAY = timedelta(days=1)


def add_working_days(calendar: WorkingCalendar, start: date, n: int) -> date:
    """The last day of a period of ``n`` official working days triggered on ``start`` (PERIOD)."""
    if n < 1:
        raise ValueError("a period has at least one day")
    day = start
    counted = 0
    while counted < n:
        day += ONE_DAY
        if calendar.is_workday(day):
            counted += 1
    return day


def add_calendar_days(calendar: WorkingCalendar, start: date, n: int) -> date:
    """The last day of a period of ``n`` calendar days triggered on ``start`` (PERIOD, Art. 203)."""
    if n < 1:
        raise ValueError("a period has at least one day")
    day = start + timedelta(days=n)
    while not calendar.is_workday(day):
        day += ONE_DAY
    return day


def add_months(start: date, months: int) -> date:
    """The date ``months`` calendar months after ``start`` (clamped to the month's end)."""
    return start + relativedelta(months=months)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day`` (BJ-3)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
