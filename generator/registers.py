"""The register pages: organisations, honours, disclosures and announcements (PUB-2..PUB-6,
HN-1c, HN-1d, BJ-16a), streamed from the public projection so memory does not grow with them."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import Connection

from generator.identification_pages import AnnouncedList, announcement_title
from generator.pages import PageWriter
from generator.spotcheck_pages import YearDraw
from volcredit import publication as pub
from volcredit.settings import PublicityPeriods

PAGE_SIZE = 500  # entries per listing page


@dataclass
class Announcements:
    """What the announcement index and the feed list, gathered while the pages are written."""

    identification: list[AnnouncedList] = field(default_factory=list)  # as recorded (HN-1d)
    draws: list[YearDraw] = field(default_factory=list)  # published spot-check draws (HN-2c)
    removals: int = 0
    last_removal: date | None = None
    notices: list[pub.PublicNotice] = field(default_factory=list)
    honour_documents: list[tuple[str, date, int, str]] = field(default_factory=list)


def _pages(items: list[Any]) -> Iterator[tuple[int, int, list[Any]]]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    for number in range(1, pages + 1):
        yield number, pages, items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]


def write_organisations(
    w: PageWriter,
    conn: Connection,
    today: date,
    regions: dict[str, pub.PublicRegion],
    news: Announcements,
) -> None:
    """Region listings (paged) and the removal announcement (PUB-2, HN-1c)."""
    counts: dict[str, int] = {}
    removed: list[pub.PublicOrganisation] = []
    for code, group in groupby(pub.organisations(conn, today), key=lambda o: o.region):
        orgs = list(group)  # one region at a time
        counts[code] = len(orgs)
        name = pub.region_name(regions, code)
        for number, pages, chunk in _pages(orgs):
            rel = f"organisations/region/{code}" + (f"/page/{number}" if number > 1 else "")
            w.write(
                rel,
                "registers/organisations_region.html",
                f"{name}志愿服务组织",
                orgs=chunk,
                region_name=name,
                page=number,
                pages=pages,
                page_url=_PageUrl(number),
            )
        removed += [o for o in orgs if o.removed_on]
    rows = [
        {
            "code": c,
            "name": pub.region_name(regions, c),
            "level": regions[c].level if c in regions else "",
            "count": n,
        }
        for c, n in sorted(counts.items())
    ]
    w.write(
        "organisations",
        "registers/organisations_index.html",
        "志愿服务组织",
        lead="已认定的志愿服务组织，按登记的行政区划浏览。",
        rows=rows,
    )
    region_names = {c: r.name for c, r in regions.items()}
    removed.sort(key=lambda o: (o.removed_on, o.uscc))
    w.write(
        "announcements/removals",
        "registers/removals.html",
        "撤销志愿服务组织认定公告",
        orgs=removed,
        region_names=region_names,
    )
    news.removals = len(removed)
    news.last_removal = removed[-1].removed_on if removed else None


@dataclass(frozen=True)
class _PageUrl:
    """The link from listing page ``current`` to page ``number`` of the same region (a value,
    so that the page has a fingerprint: see :mod:`generator.page_reuse`)."""

    current: int

    def __call__(self, number: int) -> str:
        up = "../../" if self.current > 1 else ""
        return f"{up}page/{number}/" if number > 1 else (up or "./")


def write_organisation_pages(
    w: PageWriter,
    conn: Connection,
    today: date,
    periods: PublicityPeriods,
    regions: dict[str, pub.PublicRegion],
) -> None:
    """One page per identified organisation: identification, honours, current disclosures."""
    about: dict[str, list[pub.PublicDisclosure]] = defaultdict(list)
    for d in pub.disclosures(conn, today, periods):  # bad info is rare: a small dict
        if d.uscc:
            about[d.uscc].append(d)
    org_honours = (
        h for h in pub.honours(conn, today, by_subject=True) if h.subject_kind == "organisation"
    )
    pending = next(org_honours, None)
    for org in pub.organisations(conn, today, by_uscc=True):
        mine: list[pub.PublicHonour] = []
        while pending is not None and (pending.uscc or "") < org.uscc:
            pending = next(org_honours, None)
        while pending is not None and pending.uscc == org.uscc:
            mine.append(pending)
            pending = next(org_honours, None)
        name = pub.region_name(regions, org.region)
        w.write(
            f"organisations/{org.uscc}",
            "registers/organisation.html",
            org.name,
            org=org,
            region_name=name,
            honours=mine,
            disclosures=about.get(org.uscc, []),
        )


def write_honours(
    w: PageWriter,
    conn: Connection,
    today: date,
    regions: dict[str, pub.PublicRegion],
    news: Announcements,
) -> None:
    """Honours by year, each at a stable anchor, and by document, one page per document (PUB-3)."""
    region_names = {c: r.name for c, r in regions.items()}
    years: list[tuple[int, int]] = []
    documents: dict[str, list[pub.PublicHonour]] = defaultdict(list)
    for year, group in groupby(pub.honours(conn, today), key=lambda h: h.awarded_on.year):
        items = list(group)  # one year at a time
        years.append((year, len(items)))
        w.write(
            f"honours/{year}",
            "registers/honours_list.html",
            f"{year} 年表彰与荣誉",
            groups=[{"heading": None, "anchor": "", "entries": items}],
            region_names=region_names,
        )
        for h in items:
            documents[h.document_no or f"{h.authority}（无文号）"].append(h)
    doc_links = []
    for key in sorted(documents):
        entries = documents[key]
        first = min(h.awarded_on for h in entries)
        slug = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]  # stable across builds
        news.honour_documents.append((key, first, len(entries), f"honours/documents/{slug}/"))
        w.write(
            f"honours/documents/{slug}",
            "registers/honours_list.html",
            f"表彰名单：{key}",
            groups=[{"heading": None, "anchor": "", "entries": entries}],
            region_names=region_names,
        )
        doc_links.append(
            {
                "href": f"honours/documents/{slug}/",
                "text": key,
                "note": f"{first.isoformat()}，{len(entries)} 项",
            }
        )
    sections = [
        {
            "heading": "按年度",
            "links": [
                {"href": f"honours/{y}/", "text": f"{y} 年", "note": f"{n} 项"}
                for y, n in reversed(years)
            ],
        },
        {"heading": "按文件", "links": doc_links},
    ]
    w.write(
        "honours",
        "registers/links.html",
        "表彰与荣誉",
        sections=sections,
        lead="党委、政府及其部门的表彰奖励，五星级志愿者评定等良好信息。本人要求删除的个人信息不再公开。",
    )


def write_disclosures(
    w: PageWriter,
    conn: Connection,
    today: date,
    periods: PublicityPeriods,
    regions: dict[str, pub.PublicRegion],
    news: Announcements,
) -> None:
    """Bad info inside its window, with marks (PUB-4..6); notices by announcement (BJ-16a)."""
    region_names = {c: r.name for c, r in regions.items()}
    items = list(pub.disclosures(conn, today, periods))
    w.write(
        "disclosures",
        "registers/disclosures.html",
        "志愿服务不良信息公示",
        lead="经告知、陈述申辩程序决定列入的不良信息，在公示期内公开；个人姓名部分隐去。",
        disclosures=items,
        region_names=region_names,
    )
    news.notices = list(pub.notices(conn, today, periods))
    w.write(
        "announcements/notices",
        "registers/notices.html",
        "不良信息告知公告",
        notices=news.notices,
        region_names=region_names,
    )


def write_announcement_index(
    w: PageWriter, regions: dict[str, pub.PublicRegion], news: Announcements
) -> None:
    """The announcements by kind; the yearly identification announcements by year, newest
    first (HN-1d), with the coverage and spot-check pages (HN-2c)."""
    by_year: dict[int, list[dict[str, str]]] = defaultdict(list)
    for a in sorted(news.identification, key=lambda a: (-a.year, a.region)):
        by_year[a.year].append(
            {
                "href": f"{a.rel}/",
                "text": announcement_title(pub.region_name(regions, a.region), a.year),
                "note": f"{a.published_on.isoformat()} 发布，{a.organisations} 家",
            }
        )
    sections: list[dict[str, Any]] = [
        {
            "heading": "标识覆盖率与抽查",
            "links": [
                {"href": "coverage/", "text": "志愿服务组织标识覆盖率", "note": "每百万人口"},
                {
                    "href": "spotchecks/",
                    "text": "志愿服务记录与证明抽查名单",
                    "note": f"{len(news.draws)} 个年度",
                },
            ],
        }
    ]
    sections += [
        {"heading": f"{year} 年志愿服务组织认定公告", "links": links}
        for year, links in by_year.items()
    ]
    if not by_year:
        sections.append({"heading": "志愿服务组织认定公告", "links": []})
    sections.append(
        {
            "heading": "撤销认定公告",
            "links": [
                {
                    "href": "announcements/removals/",
                    "text": "撤销志愿服务组织认定公告",
                    "note": f"{news.removals} 家",
                }
            ],
        }
    )
    sections.append(
        {
            "heading": "不良信息告知公告",
            "links": [
                {
                    "href": f"announcements/notices/#{n.case_id}",
                    "text": f"{n.subject_name}（{n.decision_no}）",
                    "note": n.announced_on.isoformat(),
                }
                for n in news.notices
            ],
        }
    )
    sections.append(
        {
            "heading": "表彰名单",
            "links": [
                {"href": rel, "text": doc, "note": f"{day.isoformat()}，{n} 项"}
                for doc, day, n, rel in news.honour_documents
            ],
        }
    )
    w.write(
        "announcements",
        "registers/links.html",
        "公告",
        sections=sections,
        lead="各级民政部门每年 6 月 30 日前公告本级认定（标识）的志愿服务组织（HN-1d）。",
    )
