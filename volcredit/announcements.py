"""The yearly announcement of identified organisations per region, and coverage (HN-1d).

Publishing is recorded as a history event (``announcement_published`` on ``ANN-<year>-<region>``)
dated the day the web team publishes; the site then shows, for that region and year, the
organisations the region identified as they stood on that day, which is reproducible because a
state on a date uses only facts and events dated on or before it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from volcredit import identification
from volcredit import publication as pub
from volcredit.rules.announcement import LEVELS, Coverage, Lateness, announcement_problem, coverage
from volcredit.store import history
from volcredit.store.schema import history as history_table

EVENT = "announcement_published"


def ref(year: int, region: str) -> str:
    """The history reference of one region's announcement for ``year``."""
    return f"ANN-{year}-{region}"


def announcing_regions(regions: dict[str, pub.PublicRegion]) -> list[pub.PublicRegion]:
    """Every region that must announce (HN-1d: each level), in code order; not regions known
    only from a transfer package (another province's, CQ-16)."""
    return [r for code, r in sorted(regions.items()) if r.level in LEVELS and not r.transferred]


def published(
    conn: Connection, today: date, year: int | None = None
) -> dict[tuple[int, str], date]:
    """When each region's announcement came out, by ``(year, region)``, as known on ``today``."""
    h = history_table
    query = select(h.c.ref, h.c.date).where(h.c.event == EVENT, h.c.date <= today)
    if year is not None:
        query = query.where(h.c.ref.like(f"ANN-{year}-%"))
    out: dict[tuple[int, str], date] = {}
    for key, day in conn.execute(query.order_by(h.c.seq)):
        _, y, region = key.split("-", 2)
        out.setdefault((int(y), region), day)
    return out


def digest(usccs: Iterable[str]) -> str:
    """A short check value of an announced list (the sorted USCCs), printed on the document."""
    body = "\n".join(sorted(usccs)).encode("utf-8")
    return hashlib.sha256(body).hexdigest()[:16]


@dataclass(frozen=True)
class Published:
    region: pub.PublicRegion
    organisations: int
    late: bool


class AnnouncementRefused(ValueError):
    """An announcement that cannot be published, naming the region or the year."""


def publish(
    conn: Connection,
    year: int,
    today: date,
    actor: str,
    source: str,
    now: datetime,
    only: Iterable[str] | None = None,
) -> list[Published]:
    """Record the announcements for ``year`` of every region (or of ``only``) not yet out,
    dated ``today``, inside the caller's write transaction. Already published ones are kept."""
    if today.year < year:
        raise AnnouncementRefused(f"{year} 年的公告不能在 {today.isoformat()} 发布")
    history.lock(conn)
    regions = pub.regions(conn)
    wanted = announcing_regions(regions)
    if only is not None:
        codes = set(only)
        unknown = sorted(codes - {r.code for r in wanted})
        if unknown:
            raise AnnouncementRefused(f"没有需要发布公告的地区：{'、'.join(unknown)}")
        wanted = [r for r in wanted if r.code in codes]
    done = published(conn, date.max, year)
    latest = _latest_published(conn)
    found = identification.decisions(conn, today)
    events: list[history.NewEvent] = []
    out: list[Published] = []
    for region in wanted:
        if (year, region.code) in done:
            continue
        payload = _payload(conn, region.code, year, today, latest.get(region.code), found)
        usccs = [o["uscc"] for o in payload["organisations"]]
        events.append(
            history.NewEvent(ref(year, region.code), EVENT, today, actor, source, None, payload)
        )
        out.append(
            Published(region, len(usccs), announcement_problem(year, today, today) is not None)
        )
    history.append(conn, events, now)
    return out


def _latest_published(conn: Connection) -> dict[str, date]:
    """Each region's latest announcement date so far (of any year), in history order."""
    h = history_table
    rows = conn.execute(select(h.c.ref, h.c.date).where(h.c.event == EVENT).order_by(h.c.seq))
    return {ref.split("-", 2)[2]: day for ref, day in rows}


def _org_json(o: pub.PublicOrganisation) -> dict[str, str | None]:
    return {
        "uscc": o.uscc,
        "name": o.name,
        "registration_authority": o.registration_authority,
        "region": o.region,
        "identified_on": o.identified_on.isoformat(),
        "identification_basis": o.identification_basis,
        "removed_on": o.removed_on.isoformat() if o.removed_on else None,
    }


def _org_of(data: dict[str, str | None]) -> pub.PublicOrganisation:
    removed = data.get("removed_on")
    return pub.PublicOrganisation(
        str(data["uscc"]),
        str(data["name"]),
        str(data["registration_authority"]),
        str(data["region"]),
        date.fromisoformat(str(data["identified_on"])),
        str(data["identification_basis"] or ""),
        date.fromisoformat(removed) if removed else None,
    )


def _payload(
    conn: Connection,
    region: str,
    year: int,
    today: date,
    previous: date | None,
    found: identification.Decisions,
) -> dict[str, Any]:
    """What an announcement publishes, fixed when it is published (PUB-8): the organisations
    identified on ``today``, those new since the region's previous announcement, and the
    removals since then."""
    orgs = list(pub.organisations(conn, today, region=region, found=found))
    current = [o for o in orgs if o.removed_on is None]
    new = [o.uscc for o in current if previous is None or o.identified_on > previous]
    removed = [
        o
        for o in orgs
        if o.removed_on is not None and (previous is None or o.removed_on > previous)
    ]
    return {
        "year": year,
        "region": region,
        "count": len(current),
        "digest": digest(o.uscc for o in current),
        "previous": previous.isoformat() if previous else None,
        "organisations": [_org_json(o) for o in current],
        "new": new,
        "removed": [_org_json(o) for o in removed],
    }


def _listed(
    conn: Connection, region: str, on: date, found: identification.Decisions
) -> Iterator[pub.PublicOrganisation]:
    """The organisations ``region`` registered that are identified on ``on`` (HN-1d)."""
    orgs = pub.organisations(conn, on, region=region, found=found)
    return (o for o in orgs if o.removed_on is None)


@dataclass(frozen=True)
class Announcement:
    """One region's announcement for one year, as published (PUB-2, HN-1d)."""

    region: pub.PublicRegion
    year: int
    published_on: date
    organisations: list[pub.PublicOrganisation]
    new: frozenset[str]  # USCCs identified since the previous year's announcement
    removed: list[pub.PublicOrganisation]  # removals since the previous year's announcement
    digest: str


def announcement(
    conn: Connection, region: pub.PublicRegion, year: int, out: dict[tuple[int, str], date]
) -> Announcement | None:
    """``region``'s announcement for ``year`` exactly as it was published (the list is kept
    in the announcement's event), or ``None`` if ``out`` (from :func:`published`) lacks it."""
    day = out.get((year, region.code))
    if day is None:
        return None
    h = history_table
    payload = conn.execute(
        select(h.c.payload)
        .where(h.c.event == EVENT, h.c.ref == ref(year, region.code))
        .order_by(h.c.seq)
        .limit(1)
    ).scalar_one()
    organisations = [_org_of(o) for o in payload["organisations"]]
    removed = [_org_of(o) for o in payload["removed"]]
    return Announcement(
        region, year, day, organisations, frozenset(payload["new"]), removed, payload["digest"]
    )


@dataclass(frozen=True)
class RegionCoverage:
    """A region's identified organisations (its own and those of the regions under it) per
    million residents (HN-1d)."""

    region: pub.PublicRegion
    own: int  # identified organisations registered with this region itself
    coverage: Coverage  # over the region and every region under it


def coverage_by_region(conn: Connection, today: date) -> list[RegionCoverage]:
    """Every region's coverage on ``today``, in code order (organisations are streamed once)."""
    regions = pub.regions(conn)
    own: Counter[str] = Counter(
        o.region for o in pub.organisations(conn, today) if o.removed_on is None
    )
    total: Counter[str] = Counter()
    for code, n in own.items():
        seen: set[str] = set()
        at: str | None = code
        while at is not None and at not in seen:  # up the tree, guarding against a cycle
            seen.add(at)
            total[at] += n
            parent = regions.get(at)
            at = parent.parent if parent is not None else None
    return [
        RegionCoverage(r, own[code], coverage(total[code], r.population))
        for code, r in sorted(regions.items())
        if not r.transferred
    ]


def lateness(conn: Connection, today: date) -> Iterator[tuple[pub.PublicRegion, Lateness]]:
    """Regions whose announcement for ``today``'s year is due soon, late or missing (HN-1d)."""
    out = published(conn, today, today.year)
    for region in announcing_regions(pub.regions(conn)):
        problem = announcement_problem(today.year, today, out.get((today.year, region.code)))
        if problem is not None:
            yield region, problem
