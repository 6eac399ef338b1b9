"""Star levels by cumulative qualifying hours (CQ-19); HN-2b records never count (HN-2b, CQ-9)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
