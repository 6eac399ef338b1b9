"""The published spot-check draws (HN-2c): the seed, the method and who was drawn.

Only the draw is public. Its order and reasons are not: organisations drawn because of a
complaint come first in draw order, and complaints are never public (PUB-1), so each region's
list is sorted by USCC and carries no reason. Nor are drawn organisations that are not public
under PUB-2 (never identified): such an organisation is a candidate only through its volunteer
records or a complaint that year, so naming it would hint at a complaint; they are counted only.
Findings and checklists (HN-2d) never reach the site: nothing here reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from generator.pages import PageWriter
from volcredit import publication as pub
from volcredit import spotcheck
from volcredit.rules.spotcheck import MINIMUM


@dataclass(frozen=True)
class DrawnOrganisation:
    uscc: str
    name: str


@dataclass(frozen=True)
class RegionList:
    code: str
    name: str
    level: str
    drawn_on: date
    candidates: int
    organisations: list[DrawnOrganisation]  # public ones (PUB-2), by USCC, never in draw order
    others: int  # drawn organisations never identified: counted, not named (PUB-1)

    @property
    def drawn(self) -> int:
        return len(self.organisations) + self.others


@dataclass(frozen=True)
class YearDraw:
    """A year's published draw, for the page, the index and the feed."""

    year: int
    seed: str
    drawn_on: date  # the first region's draw date
    regions: list[RegionList]

    @property
    def rel(self) -> str:
        return f"spotchecks/{self.year}"

    @property
    def drawn(self) -> int:
        return sum(r.drawn for r in self.regions)


def published_draws(
    conn: Connection, today: date, regions: dict[str, pub.PublicRegion]
) -> list[YearDraw]:
    """Every year's draw as known on ``today`` (PUB-8: a later draw is not on an earlier build)."""
    years = {y: spotcheck.recorded_draws(conn, y, today) for y in spotcheck.draw_years(conn, today)}
    wanted = {u for draws in years.values() for d in draws for u, _ in d.drawn}
    public: dict[str, str] = {}
    if wanted:
        for org in pub.organisations(conn, today, by_uscc=True):  # streamed, a few kept
            if org.uscc in wanted:
                public[org.uscc] = org.name
    out = []
    for year, draws in sorted(years.items()):
        if not draws:
            continue
        lists = [
            RegionList(
                d.region,
                pub.region_name(regions, d.region),
                regions[d.region].level if d.region in regions else "",
                d.drawn_on,
                d.candidates,
                [
                    DrawnOrganisation(u, public[u])
                    for u in sorted(u for u, _ in d.drawn if u in public)  # never draw order
                ],
                sum(1 for u, _ in d.drawn if u not in public),
            )
            for d in draws
        ]
        out.append(YearDraw(year, draws[0].seed, min(d.drawn_on for d in draws), lists))
    return out


def write_spotchecks(
    w: PageWriter, conn: Connection, today: date, regions: dict[str, pub.PublicRegion]
) -> list[YearDraw]:
    """HN-2c: one page per year with a recorded draw, and the index of years."""
    draws = published_draws(conn, today, regions)
    for d in draws:
        w.write(
            d.rel,
            "registers/spotchecks.html",
            f"{d.year}年志愿服务记录与证明抽查名单",
            draw=d,
            minimum=MINIMUM,
        )
    w.write(
        "spotchecks",
        "registers/links.html",
        "志愿服务记录与证明抽查",
        lead="每年 9 月前，各市、县（区）民政部门随机抽取志愿服务组织，"
        "现场查验志愿服务记录与证明出具情况（HN-2c）。抽取所用的种子和抽中的名单在此公布。",
        sections=[
            {
                "heading": "抽查名单",
                "links": [
                    {
                        "href": f"{d.rel}/",
                        "text": f"{d.year}年抽查名单",
                        "note": f"{d.drawn_on.isoformat()} 抽取，{len(d.regions)} 个地区，"
                        f"{d.drawn} 家",
                    }
                    for d in reversed(draws)
                ],
            }
        ],
    )
    return draws
