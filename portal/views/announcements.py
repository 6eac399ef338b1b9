"""The yearly announcement of identified organisations (HN-1d): which regions have published
the year's announcement, the deadline state of the others, publishing through
``volcredit.announcements.publish``, and each region's coverage against the target."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portal.context import portal_of
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import staff
from portal.views.identification import ROLE, actor_of
from volcredit import announcements
from volcredit import publication as pub
from volcredit.rules.announcement import TARGET_PER_MILLION, announcement_problem, due_date

FIRST_YEAR = 2000


def parse_year(raw: str | None, today: date) -> int | None:
    """A four-digit year no later than next year, or None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        return None
    year = int(raw)
    return year if FIRST_YEAR <= year <= today.year + 1 else None


@staff(ROLE)
async def overview(request: Request) -> Response:
    """``?year=``: every announcing region's state for the year, and coverage (HN-1d)."""
    today = portal_of(request).today()
    raw = request.query_params.get("year")
    year = today.year if raw is None else parse_year(raw.strip(), today)
    if year is None:
        return error_page(request, 400, f"年份须为 {FIRST_YEAR} 年至明年之间的四位数字。")
    return page(request, year, message=_published_message(request, year))


def _published_message(request: Request, year: int) -> str:
    """The confirmation after a publish (counts passed in the redirect)."""
    count, late = (request.query_params.get(k, "") for k in ("published", "late"))
    if not (count.isascii() and count.isdigit() and len(count) < 6):
        return ""
    if int(count) == 0:
        return f"没有新发布的公告：所选地区的 {year} 年认定公告此前均已发布。"
    text = f"已发布 {int(count)} 个地区的 {year} 年认定公告。"
    text += "下次网站构建（volcredit build）时生成公告页面。"
    if late.isascii() and late.isdigit() and 0 < int(late) < 100000:
        text += f"其中 {int(late)} 个地区晚于 6 月 30 日发布，将标明逾期。"
    return text


def page(
    request: Request,
    year: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    portal = portal_of(request)
    today = portal.today()
    with portal.store.read() as conn:
        regions = pub.regions(conn)
        out = announcements.published(conn, today, year)
        coverage = announcements.coverage_by_region(conn, today)
    own = {c.region.code: c.own for c in coverage}
    rows = [
        _row(r, regions, out.get((year, r.code)), own.get(r.code, 0), year, today)
        for r in announcements.announcing_regions(regions)
    ]
    context = {
        "year": year,
        "today": today,
        "due": due_date(year),
        "rows": rows,
        "unpublished": [row for row in rows if row["published_on"] is None],
        "counts": {
            "regions": len(rows),
            "published": sum(row["published_on"] is not None for row in rows),
            "due": sum(row["level"] == "due" for row in rows),
            "overdue": sum(row["level"] == "overdue" for row in rows),
            "late": sum(row["level"] == "late" for row in rows),
        },
        "coverage": coverage,
        "target": TARGET_PER_MILLION,
        "errors": errors or {},
        "values": values or {"year": str(year)},
        "message": message,
    }
    return render(request, "announcements.html", context, status)


def _row(
    region: pub.PublicRegion,
    regions: dict[str, pub.PublicRegion],
    published_on: date | None,
    own: int,
    year: int,
    today: date,
) -> dict[str, Any]:
    """One region's line: published or not, and its HN-1d state on ``today``."""
    problem = announcement_problem(year, today, published_on)
    if problem is None:
        level = "ok"
        state = "已按期发布" if published_on else f"须在 {due_date(year).isoformat()} 前发布"
    else:  # due soon (a warning), overdue (an error), or published after the deadline
        level = "overdue" if problem.error else "late" if published_on else "due"
        state = problem.message
    return {
        "region": region,
        "parent": pub.region_name(regions, region.parent) if region.parent else "",
        "published_on": published_on,
        "own": own,
        "level": level,
        "state": state,
    }


@staff(ROLE)
async def publish(request: Request) -> Response:
    """Publish ``year``'s announcement for every unpublished region, or one (HN-1d)."""
    portal = portal_of(request)
    today = portal.today()
    form = await form_of(request)
    raw_year, region = field(form, "year").strip(), field(form, "region").strip()
    year = parse_year(raw_year, today)
    values = {"year": raw_year[:10], "region": region[:20]}
    if year is None:
        errors = {"year": f"年份须为 {FIRST_YEAR} 年至明年之间的四位数字"}
        return page(request, today.year, errors, values, status=400)
    try:
        with portal.store.write() as conn:
            done = announcements.publish(
                conn,
                year,
                today,
                actor_of(request),
                "portal",
                portal.now(),
                only=[region] if region else None,
            )
    except announcements.AnnouncementRefused as refused:
        key = "region" if region and year <= today.year else "year"
        return page(request, year, {key: f"HN-1d：{refused}"}, values, status=400)
    late = sum(p.late for p in done)
    return see_other(f"/staff/announcements?year={year}&published={len(done)}&late={late}")
