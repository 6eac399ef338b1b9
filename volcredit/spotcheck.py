"""Reading the spot-check candidates from the store, region by region (HN-2c).

A city or county checks the identified volunteer-service organisations it registered (their
``region`` is its code) that were identified during the year or before and not removed before
it began. Complaints, volunteers and activity are counted for that calendar year.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, func, or_, select

from volcredit.rules.spotcheck import Candidate, Drawn, draw
from volcredit.store.schema import content_tables

LEVELS = ("city", "county")  # HN-2c: each city and county draws


@dataclass(frozen=True)
class RegionDraw:
    code: str
    name: str
    level: str
    candidates: int
    drawn: list[Drawn]


def _counts(conn: Connection, year: int) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    c, sr = content_tables["complaints"], content_tables["service_records"]
    complaints = dict(
        conn.execute(
            select(c.c.subject, func.count())
            .where(c.c.subject_kind == "organisation", c.c.received_on.between(first, last))
            .group_by(c.c.subject)
        ).all()
    )
    activity = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            select(sr.c.organisation, func.count(sr.c.volunteer_no.distinct()), func.count())
            .where(sr.c.date.between(first, last))
            .group_by(sr.c.organisation)
        )
    }
    return complaints, activity


def region_draws(conn: Connection, year: int, seed: str) -> Iterator[RegionDraw]:
    """Every city's and county's draw for ``year`` with ``seed``, in region-code order."""
    r, o = content_tables["regions"], content_tables["organisations"]
    complaints, activity = _counts(conn, year)
    identified = and_(
        o.c.identified_on.is_not(None),
        o.c.identified_on <= date(year, 12, 31),
        or_(
            o.c.identification_removed_on.is_(None),
            o.c.identification_removed_on >= date(year, 1, 1),
        ),
    )
    regions = conn.execute(
        select(r.c.code, r.c.name, r.c.level).where(r.c.level.in_(LEVELS)).order_by(r.c.code)
    ).all()
    for code, name, level in regions:
        orgs = conn.execute(select(o.c.uscc, o.c.name).where(o.c.region == code, identified)).all()
        candidates = [
            Candidate(
                uscc,
                org_name,
                complaints.get(uscc, 0),
                *activity.get(uscc, (0, 0)),
            )
            for uscc, org_name in orgs
        ]
        drawn = draw(candidates, seed, year, code)
        yield RegionDraw(code, name, level, len(candidates), drawn)
