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
        self._override_years = {d.year for d in self._overrides}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, str]]) -> WorkingCalendar:
        """Build from ``workdays`` rows ``(date, kind)``."""
        return cls(dict(rows))

    def covers(self, year: int) -> bool:
        """True if the official calendar of ``year`` is known."""
        return year in self._override_years or _bundled_covers(year)

    def is_workday(self, day: date) -> bool:
        """True if ``day`` is an official working day, 调休 working weekends included."""
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == WORKDAY
        if _bundled_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if day.year in self._override_years:
            # The year's special days are loaded; any other day follows the normal week.
            return day.weekday() < 5
        raise CalendarGapError(day.year)
