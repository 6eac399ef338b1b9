"""The official PRC working-day calendar (RULES PERIOD).

``chinesecalendar`` provides the State Council's calendar for the years it bundles; the ``workdays``
table supplies a year it does not cover yet (and may correct single days). A date in a year that
neither covers raises :class:`CalendarGapError` -- never a weekends-only guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache

import chinese_calendar

from volcredit.problems import CalendarGapError

HOLIDAY = "holiday"
WORKDAY = "workday"
# 《全国年节及纪念日放假办法》: 11 statutory holiday days a year from 2008, 13 from 2025. A year
# supplied through ``workdays`` with fewer holiday rows is incomplete, never taken as the calendar.
MIN_STATUTORY_HOLIDAYS = 11


@cache
def _bundled_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class WorkingCalendar:
    """Answers "is this an official working day?": bundled calendar plus loaded overrides."""

    def __init__(self, overrides: Mapping[date, str] | None = None) -> None:
        self._overrides: dict[date, str] = dict(overrides or {})
        holidays: dict[int, int] = {}
        for day, kind in self._overrides.items():
            holidays[day.year] = holidays.get(day.year, 0) + (kind == HOLIDAY)
        self._holidays_per_year = holidays
        self._override_years = {y for y, n in holidays.items() if n >= MIN_STATUTORY_HOLIDAYS}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, str]]) -> WorkingCalendar:
        """Build from ``workdays`` rows ``(date, kind)``."""
        return cls(dict(rows))

    def incomplete_years(self) -> list[tuple[int, int]]:
        """Years not bundled whose loaded rows list too few holidays: ``(year, holidays)``."""
        return sorted(
            (year, n)
            for year, n in self._holidays_per_year.items()
            if n < MIN_STATUTORY_HOLIDAYS and not _bundled_covers(year)
        )

    def covers(self, year: int) -> bool:
        """True if the official calendar of ``year`` is known."""
        return year in self._override_years or _bundled_covers(year)

    def is_workday(self, day: date) -> bool:
        """True if ``day`` is an official working day, 调休 working weekends included."""
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == WORKDAY
        if _bundled_covers(day.year):
            return _bundled_workday(day)
        if day.year in self._override_years:
            # The year's holidays and 调休 days are loaded; any other day follows the normal week.
            return day.weekday() < 5
        raise CalendarGapError(day.year)


@cache
def _bundled_workday(day: date) -> bool:
    """``chinese_calendar``'s answer for ``day`` (fixed data: asked once per day per process)."""
    return bool(chinese_calendar.is_workday(day))
