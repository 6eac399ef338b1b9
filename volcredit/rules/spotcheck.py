"""The yearly spot-check draw (HN-2c): a pure, reproducible function of the candidates, the
year, the region and a published seed.

Each city and county checks at least ``MINIMUM`` organisations (all of them if it has fewer).
Every organisation with a complaint that year is always in the draw; the remaining places go by
weighted sampling without replacement (Efraimidis–Spirakis keys), the weight growing with the
organisation's volunteers and activity that year, so large and busy organisations are drawn
first more often while every candidate keeps a chance.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass

MINIMUM = 10  # HN-2c
# Places always left to the weighted draw (when there are candidates for them), so a published
# list never consists of complaint organisations only: complaints are never public (PUB-1).
WEIGHTED_RESERVE = 3


@dataclass(frozen=True)
class Candidate:
    """An organisation that may be drawn, with what HN-2c weighs."""

    uscc: str
    name: str
    complaints: int  # complaints received that year
    volunteers: int  # distinct volunteers with service records that year
    records: int  # service records that year (activity)

    @property
    def weight(self) -> float:
        """HN-2c priority: many volunteers, frequent activity (1 so nobody has no chance)."""
        return 1.0 + self.volunteers + self.records / 10


@dataclass(frozen=True)
class Drawn:
    candidate: Candidate
    reason: str  # complaint | weighted


def _rng(seed: str, year: int, region: str) -> random.Random:
    """One random stream per (seed, year, region): the same seed redraws the same, and one
    region's draw does not shift when another region's candidates change."""
    digest = hashlib.sha256(f"{seed}\x1f{year}\x1f{region}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def draw(
    candidates: Iterable[Candidate], seed: str, year: int, region: str, minimum: int = MINIMUM
) -> list[Drawn]:
    """The region's draw for ``year`` (HN-2c): complaint organisations first, then weighted."""
    pool = sorted(candidates, key=lambda c: c.uscc)  # order-independent of how they were read
    chosen = [Drawn(c, "complaint") for c in pool if c.complaints > 0]
    rest = [c for c in pool if c.complaints == 0]
    places = max(minimum - len(chosen), WEIGHTED_RESERVE if chosen else 0)
    rng = _rng(seed, year, region)
    keyed = sorted(
        ((rng.random() ** (1.0 / c.weight), c) for c in rest), key=lambda kc: kc[0], reverse=True
    )
    chosen += [Drawn(c, "weighted") for _key, c in keyed[:places]]
    return chosen
