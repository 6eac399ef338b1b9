"""Star levels by cumulative qualifying hours (CQ-19); HN-2b records never count (HN-2b, CQ-9)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# CQ-19: cumulative qualifying hours needed for each star level.
STAR_THRESHOLDS: tuple[tuple[int, Decimal], ...] = (
    (1, Decimal(100)),
    (2, Decimal(300)),
    (3, Decimal(600)),
    (4, Decimal(1000)),
    (5, Decimal(1500)),
)


@dataclass(frozen=True)
class StarStanding:
    """A volunteer's star level, qualifying hours, and hours still needed for the next level."""

    level: int
    qualifying_hours: Decimal
    hours_to_next: Decimal | None  # None at the top level


def qualifying_hours(records: Iterable[tuple[Decimal, int | None]]) -> Decimal:
    """Sum the hours of records ``(hours, excluded_kind)`` not of an HN-2b kind (CQ-9)."""
    return sum((hours for hours, excluded in records if excluded is None), Decimal(0))


def star_standing(hours: Decimal) -> StarStanding:
    """The star level for ``hours`` qualifying hours (CQ-19)."""
    level = 0
    for stars, needed in STAR_THRESHOLDS:
        if hours >= needed:
            level = stars
    nxt = next((needed for stars, needed in STAR_THRESHOLDS if stars == level + 1), None)
    return StarStanding(level, hours, None if nxt is None else nxt - hours)


@dataclass(frozen=True)
class StarReached:
    """The day a volunteer reached a star level, and the qualifying hours then (CQ-19)."""

    level: int
    reached_on: date
    hours: Decimal


def star_history(records: Iterable[tuple[date, Decimal]]) -> list[StarReached]:
    """When each star level was reached, from qualifying records ``(date, hours)`` in date
    order (HN-2b records must already be left out): the first day the running total of
    qualifying hours met each CQ-19 threshold."""
    reached: list[StarReached] = []
    total = Decimal(0)
    pending = list(STAR_THRESHOLDS)
    for day, hours in records:
        total += hours
        while pending and total >= pending[0][1]:
            reached.append(StarReached(pending[0][0], day, total))
            pending.pop(0)
    return reached


def time_bank_balance(qualifying: Decimal, exchanged: Decimal = Decimal(0)) -> Decimal:
    """CQ-20 time bank (储蓄): qualifying hours stay on the record as a balance; certificates and
    star levels do not consume them, only an exchange would (none is recorded by the contract)."""
    return qualifying - exchanged
