"""The yearly identification announcements, as recorded, and the coverage page (HN-1d, PUB-2).

An announcement page exists only for an announcement recorded as published (a history event,
:func:`volcredit.announcements.published`); its list is the region's own identified
organisations on the publication date, so a later identification or removal never changes a
published page, it shows on the next year's (PUB-8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from generator.pages import PageWriter
from volcredit import announcements
from volcredit import publication as pub
from volcredit.rules.announcement import TARGET_PER_MILLION

ANNOUNCEMENT_TEMPLATE = "registers/identification.html"


@dataclass(frozen=True)
class AnnouncedList:
    """One published announcement, for the announcement index and the feed."""

    year: int
    region: str
    published_on: date
    organisations: int

    @property
    def rel(self) -> str:
        return announcement_rel(self.year, self.region)


def announcement_rel(year: int, region: str) -> str:
    return f"announcements/identification/{year}/{region}"


def announcement_title(region_name: str, year: int) -> str:
    return f"{region_name}{year}年志愿服务组织认定公告"


def write_identification_announcements(
    w: PageWriter,
    conn: Connection,
    today: date,
    regions: dict[str, pub.PublicRegion],
) -> list[AnnouncedList]:
    """HN-1d: one page per announcement recorded as published on or before ``today``."""
    out = announcements.published(conn, today)
    written: list[AnnouncedList] = []
    for year, code in sorted(out):
        region = regions.get(code)
        if region is None:  # a region no longer in the loaded data: nothing to list
            continue
        ann = announcements.announcement(conn, region, year, out)
        if ann is None:
            continue
        previous = out.get((year - 1, code))
        w.write(
            announcement_rel(year, code),
            ANNOUNCEMENT_TEMPLATE,
            announcement_title(region.name, year),
            ann=ann,
            previous_on=previous,
            previous_rel=announcement_rel(year - 1, code) + "/" if previous else None,
            region_names={c: r.name for c, r in regions.items()},
        )
        written.append(AnnouncedList(year, code, ann.published_on, len(ann.organisations)))
    return written


@dataclass(frozen=True)
class CoverageRow:
    """One line of the coverage table (HN-1d)."""

    code: str
    name: str
    level: str
    depth: int  # how many regions above it (for the indent)
    population: int | None
    own: int
    identified: int
    per_million: str | None
    needed: int | None
    shortfall: int | None
    status: str


STATUS = {True: "达标", False: "未达标", None: "无人口数据"}


def coverage_rows(conn: Connection, today: date) -> list[CoverageRow]:
    """Every region's HN-1d figure on ``today``, in code order."""
    rows = announcements.coverage_by_region(conn, today)
    parents = {r.region.code: r.region.parent for r in rows}
    out = []
    for r in rows:
        c = r.coverage
        out.append(
            CoverageRow(
                r.region.code,
                r.region.name,
                r.region.level,
                _depth(parents, r.region.code),
                c.population,
                r.own,
                c.identified,
                None if c.per_million is None else f"{c.per_million:.2f}",
                c.needed,
                c.shortfall,
                STATUS[c.met],
            )
        )
    return out


def _depth(parents: dict[str, str | None], code: str) -> int:
    depth, seen, at = 0, {code}, parents.get(code)
    while at is not None and at in parents and at not in seen:  # guard against a cycle
        seen.add(at)
        depth += 1
        at = parents.get(at)
    return depth


def write_coverage(w: PageWriter, conn: Connection, today: date) -> None:
    """HN-1d: each region's identified organisations per million residents against 20."""
    rows = coverage_rows(conn, today)
    w.write(
        "coverage",
        "registers/coverage.html",
        "志愿服务组织标识覆盖率",
        rows=rows,
        target=TARGET_PER_MILLION,
        met=sum(1 for r in rows if r.status == STATUS[True]),
        short=sum(1 for r in rows if r.status == STATUS[False]),
    )
