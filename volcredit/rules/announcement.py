"""The yearly announcement of identified organisations and the coverage target (HN-1d).

Each civil-affairs level announces the organisations it identified (those registered with it)
on its website before 30 June each year; there should be at least 20 identified organisations
per million residents in each region.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

DUE_MONTH_DAY = (6, 30)  # HN-1d: published by 30 June
WARN_FROM_MONTH_DAY = (6, 1)  # a month's notice before the deadline
TARGET_PER_MILLION = 20  # HN-1d
LEVELS = ("province", "city", "county")  # every level announces


def due_date(year: int) -> date:
    """The last day on which ``year``'s announcement is on time (HN-1d)."""
    return date(year, *DUE_MONTH_DAY)


@dataclass(frozen=True)
class Lateness:
    """What ``check`` reports about one region's announcement for the year."""

    error: bool  # after the deadline and still not out
    message: str


def announcement_problem(year: int, today: date, published_on: date | None) -> Lateness | None:
    """HN-1d on ``today``: nothing before 1 June; a warning from 1 June to 30 June while the
    announcement is not out; an error from 1 July; a warning if it came out late."""
    due = due_date(year)
    if published_on is not None and published_on <= today:
        if published_on > due:
            return Lateness(
                False, f"{year} 年公告于 {published_on.isoformat()} 发布，晚于 6 月 30 日"
            )
        return None
    if today < date(year, *WARN_FROM_MONTH_DAY):
        return None
    if today <= due:
        days = (due - today).days
        return Lateness(
            False, f"{year} 年认定公告尚未发布，须在 6 月 30 日前发布（还剩 {days} 天）"
        )
    return Lateness(True, f"{year} 年认定公告逾期未发布（应在 6 月 30 日前发布）")


@dataclass(frozen=True)
class Coverage:
    """Identified organisations per million residents against the HN-1d target."""

    identified: int
    population: int | None
    per_million: Decimal | None  # two decimals, half up; None without a population
    needed: int | None  # organisations the target requires for this population
    shortfall: int | None  # how many more are needed (0 when the target is met)

    @property
    def met(self) -> bool | None:
        return None if self.shortfall is None else self.shortfall == 0


def coverage(identified: int, population: int | None) -> Coverage:
    """HN-1d: ``identified`` per million of ``population`` and the shortfall against 20."""
    if not population or population <= 0:
        return Coverage(identified, population, None, None, None)
    per_million = (Decimal(identified) * 1_000_000 / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    needed = -(-TARGET_PER_MILLION * population // 1_000_000)  # ceiling, in integers
    return Coverage(identified, population, per_million, needed, max(needed - identified, 0))
