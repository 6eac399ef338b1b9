"""The spot-check draw from the store, region by region, and its record (HN-2c).

A city or county checks the organisations it registered (their ``region`` is its code) that
were identified at some time in the year, or that recorded volunteer service or drew a
complaint that year: HN-2c counts "other organisations, institutions and teams" too.
Complaints, volunteers and activity are counted for that calendar year. A recorded draw is a
history event per region (``spot_check_drawn`` on ``SC-<year>-<region>``) carrying the seed and
the drawn organisations, so the published draw never shifts when later data arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from volcredit import identification
from volcredit.rules.identification import Identification
from volcredit.rules.spotcheck import Candidate, Drawn, draw
from volcredit.store import history
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

LEVELS = ("city", "county")  # HN-2c: each city and county draws


@dataclass(frozen=True)
class RegionDraw:
    code: str
    name: str
    level: str
    candidates: int
    drawn: list[Drawn]


def _counts(
    conn: Connection, year: int, last: date
) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    first = date(year, 1, 1)
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
            .where(sr.c.date.between(first, last), sr.c.recorded_on <= last)
            .group_by(sr.c.organisation)
        )
    }
    return complaints, activity


def _identified_in(state: Identification, year: int, last: date) -> bool:
    first = date(year, 1, 1)
    return (
        state.identified_on is not None
        and state.identified_on <= last
        and (state.removed_on is None or state.removed_on >= first)
    )


def region_draws(
    conn: Connection, year: int, seed: str, as_of: date | None = None
) -> Iterator[RegionDraw]:
    """Every city's and county's draw for ``year`` with ``seed``, in region-code order, from the
    facts of the year known on ``as_of`` (the draw's date; default: the whole year), so the
    recorded draw can be reproduced later from the same store whatever came after it."""
    r, o = content_tables["regions"], content_tables["organisations"]
    last = min(as_of or date(year, 12, 31), date(year, 12, 31))
    complaints, activity = _counts(conn, year, last)
    found = identification.decisions(conn, last)
    regions = conn.execute(
        select(r.c.code, r.c.name, r.c.level)
        .where(r.c.level.in_(LEVELS), r.c.source_line != 0)  # not regions known from transfers
        .order_by(r.c.code)
    ).all()
    for code, name, level in regions:
        candidates = []
        for row in conn.execute(select(o).where(o.c.region == code, o.c.source_line != 0)):
            state = identification.state(row, found, last)
            if _identified_in(state, year, last) or row.uscc in activity or row.uscc in complaints:
                candidates.append(
                    Candidate(
                        row.uscc,
                        row.name,
                        complaints.get(row.uscc, 0),
                        *activity.get(row.uscc, (0, 0)),
                    )
                )
        drawn = draw(candidates, seed, year, code)
        yield RegionDraw(code, name, level, len(candidates), drawn)


DRAWN = "spot_check_drawn"
DRAW_LAST_DAY = (8, 31)  # HN-2c: checks done before September, so drawn by then


def draw_ref(year: int, region: str) -> str:
    """The history reference of one region's recorded draw."""
    return f"SC-{year}-{region}"


@dataclass(frozen=True)
class RecordedDraw:
    """A region's draw as recorded (and published): the seed, the date and who was drawn."""

    region: str
    seed: str
    drawn_on: date
    candidates: int
    drawn: list[tuple[str, str]]  # (uscc, reason), in draw order


def draw_years(conn: Connection, today: date) -> list[int]:
    """The years with a draw recorded on or before ``today``, in order."""
    h = history_table
    refs = conn.execute(
        select(h.c.ref).where(h.c.event == DRAWN, h.c.date <= today).distinct()
    ).scalars()
    return sorted({int(ref.split("-", 2)[1]) for ref in refs})


class DrawRefused(ValueError):
    """A draw that cannot be recorded (another seed already drawn this year)."""


def drawn_in(conn: Connection, year: int, uscc: str) -> tuple[RecordedDraw, str] | None:
    """The recorded draw of the region that registered ``uscc`` if it drew that organisation in
    ``year``, with the reason; one indexed lookup (organisations are drawn in their own region)."""
    o = content_tables["organisations"]
    region = conn.execute(select(o.c.region).where(o.c.uscc == uscc)).scalar_one_or_none()
    if region is None:
        return None
    for d in recorded_draws(conn, year, region=region):
        for drawn, reason in d.drawn:
            if drawn == uscc:
                return d, reason
    return None


def recorded_draws(
    conn: Connection, year: int, today: date | None = None, region: str | None = None
) -> list[RecordedDraw]:
    """The recorded draws for ``year`` (known on ``today``, if given; of one ``region``, if
    given), in region-code order."""
    h = history_table
    query = select(h.c.ref, h.c.date, h.c.payload).where(
        h.c.event == DRAWN,
        h.c.ref == draw_ref(year, region) if region else h.c.ref.like(f"SC-{year}-%"),
    )
    if today is not None:
        query = query.where(h.c.date <= today)
    rows = conn.execute(query.order_by(h.c.ref, h.c.seq))
    out: dict[str, RecordedDraw] = {}
    for ref, day, payload in rows:
        region = ref.split("-", 2)[2]
        out.setdefault(
            region,
            RecordedDraw(
                region,
                payload["seed"],
                day,
                payload["candidates"],
                [(d["uscc"], d["reason"]) for d in payload["drawn"]],
            ),
        )
    return list(out.values())


def record_draw(
    conn: Connection, year: int, seed: str, today: date, actor: str, source: str, now: datetime
) -> list[RecordedDraw]:
    """Draw ``year`` with ``seed`` and record it (inside the caller's write transaction).

    A year has one seed: drawing again with the same seed records only regions not yet drawn
    (none, usually); another seed is refused, so nobody can redraw until a draw suits them.
    """
    if today.year < year:
        raise DrawRefused(f"{year} 年的抽查不能在 {today.isoformat()} 抽取")
    history.lock(conn)
    before = recorded_draws(conn, year)
    seeds = {d.seed for d in before}
    if seeds and seeds != {seed}:
        raise DrawRefused(f"{year} 年已用种子 {'、'.join(sorted(seeds))} 抽取，不能换种子重抽")
    done = {d.region for d in before}
    events = [
        history.NewEvent(
            draw_ref(year, d.code),
            DRAWN,
            today,
            actor,
            source,
            None,
            {
                "seed": seed,
                "year": year,
                "candidates": d.candidates,
                "drawn": [{"uscc": x.candidate.uscc, "reason": x.reason} for x in d.drawn],
            },
        )
        for d in region_draws(conn, year, seed, today)
        if d.code not in done
    ]
    history.append(conn, events, now)
    return recorded_draws(conn, year)
