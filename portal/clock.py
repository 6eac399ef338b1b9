"""The portal's clock: the one place the portal reads the time, so tests can pass it in.

Times are stored as naive UTC; the date that rules see (``today``) is the date in Beijing, where
the departments work (UTC+8, no daylight saving).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

BEIJING = timedelta(hours=8)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


class FixedClock:
    """A clock that stands still until moved (tests and benchmarks)."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def today_in_beijing(now: datetime) -> date:
    """The official date for ``now`` (naive UTC)."""
    return (now + BEIJING).date()


def beijing_time(moment: datetime | None) -> str:
    """``moment`` (naive UTC) as Beijing time for people, e.g. ``2026-11-21 08:05``."""
    if moment is None:
        return ""
    return (moment + BEIJING).strftime("%Y-%m-%d %H:%M")
