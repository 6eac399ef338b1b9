"""Spot checks for inspectors (HN-2c, HN-2d): the year's draw from a published seed, each drawn
organisation's eight-item checklist with its pre-filled suggestions, findings recorded into the
history, and each reporting unit's report as CSV. Never public (PUB-1): staff pages only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portal.context import portal_of, signed_in
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import staff
from volcredit.rules.checklist import ITEMS, RESULTS, finding_problem
from volcredit.spotcheck import (
    DRAW_LAST_DAY,
    DrawRefused,
    RecordedDraw,
    drawn_in,
    record_draw,
    recorded_draws,
    region_draws,
)
from volcredit.spotcheck_findings import (
    OUTCOME_LABELS,
    REASON_LABELS,
    REPORT_DUE,
    CheckedOrganisation,
    FindingRefused,
    Report,
    checked,
    csv_rows,
    record_finding,
    reports,
)

SEED_MAX = 64
NOTE_MAX = 500
FIRST_YEAR = 2000
SOURCE_LABELS = {"import": "数据导入", "portal": "门户录入", "cli": "命令行录入"}
RESULT_CHOICES = {r: OUTCOME_LABELS[r] for r in RESULTS}


def _year(raw: str | None, today: date) -> int | None:
    """A year from a query or path (the clock's year when absent), or None if not a year."""
    if not raw:
        return today.year
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and int(raw) >= FIRST_YEAR:
        return int(raw)
    return None


@dataclass(frozen=True)
class Deadlines:
    """HN-2c's two dates for a year and how the year stands against them on ``today``."""

    draw_due: date
    report_due: date
    draw_late: bool  # drawn after the draw deadline, or not drawn and it has passed
    checks_late: bool  # items still open after the draw deadline
    report_late: bool  # items still open after the report deadline


def deadlines(year: int, today: date, drawn_on: date | None, open_items: int) -> Deadlines:
    draw_due, report_due = date(year, *DRAW_LAST_DAY), date(year, *REPORT_DUE)
    late_draw = drawn_on > draw_due if drawn_on else today > draw_due
    return Deadlines(
        draw_due,
        report_due,
        late_draw,
        bool(open_items) and today > draw_due,
        bool(open_items) and today > report_due,
    )


def _overview(
    request: Request, year: int, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    portal = portal_of(request)
    today = portal.today()
    with portal.store.read() as conn:
        draws = recorded_draws(conn, year)
        found = reports(conn, year)
    open_items = sum(o.open_items for r in found for s in r.regions for o in s.organisations)
    drawn_on = min((d.drawn_on for d in draws), default=None)
    context = {
        "year": year,
        "today": today,
        "draws": draws,
        "seed": draws[0].seed if draws else "",
        "drawn_on": drawn_on,
        "reports": found,
        "open_items": open_items,
        "due": deadlines(year, today, drawn_on, open_items),
        "can_draw": year <= today.year,
        "reason_labels": REASON_LABELS,
        "preview": None,
        "values": {"seed": ""},
        **(extra or {}),
    }
    return render(request, "spotchecks.html", context, status)


@staff("inspector")
async def overview(request: Request) -> Response:
    """The year's draw (HN-2c) with every drawn organisation's open and failed items."""
    year = _year(request.query_params.get("year"), portal_of(request).today())
    if year is None:
        return error_page(request, 400, "年份无效，请填写四位数的年份。")
    return _overview(request, year)


def _seed_problem(seed: str) -> str | None:
    if not seed:
        return "请填写抽取种子"
    if len(seed) > SEED_MAX:
        return f"种子不能超过 {SEED_MAX} 个字符"
    if not seed.isprintable():
        return "种子不能含控制字符"
    return None


@staff("inspector")
async def draw(request: Request) -> Response:
    """Preview or record the year's draw with a seed (HN-2c). A year has one seed: another seed
    is refused beside the seed field and nothing is recorded."""
    portal, v = signed_in(request)
    form = await form_of(request)
    today = portal.today()
    year = _year(field(form, "year"), today)
    seed = field(form, "seed").strip()
    errors: dict[str, str] = {}
    if year is None:
        return error_page(request, 400, "年份无效，请填写四位数的年份。")
    if year > today.year:
        errors["seed"] = f"{year} 年的抽查须在 {year} 年内抽取"
    elif problem := _seed_problem(seed):
        errors["seed"] = problem
    values = {"seed": seed}
    if not errors and field(form, "action") == "preview":
        with portal.store.read() as conn:
            preview = list(region_draws(conn, year, seed, portal.today()))
        return _overview(request, year, {"preview": preview, "values": values})
    if not errors:
        try:
            with portal.store.write() as conn:
                record_draw(
                    conn,
                    year,
                    seed,
                    today,
                    f"portal:{v.account.account_id}",
                    "portal",
                    portal.now(),
                )
        except DrawRefused as refused:
            errors["seed"] = str(refused)
    if errors:
        return _overview(request, year, {"errors": errors, "values": values}, 400)
    return see_other(f"/staff/spotchecks?year={year}")


def _organisation(
    request: Request, year: int, uscc: str
) -> tuple[CheckedOrganisation, RecordedDraw] | None:
    portal = portal_of(request)
    with portal.store.read() as conn:
        found = drawn_in(conn, year, uscc)
        if found is None:
            return None
        region_draw = found[0]
        one = RecordedDraw(
            region_draw.region,
            region_draw.seed,
            region_draw.drawn_on,
            region_draw.candidates,
            [(u, r) for u, r in region_draw.drawn if u == uscc],
        )
        orgs = checked(conn, year, [one])[one.region]
    return orgs[0], region_draw


def _checklist(
    request: Request,
    year: int,
    org: CheckedOrganisation,
    region_draw: RecordedDraw,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "year": year,
        "org": org,
        "draw": region_draw,
        "reason_labels": REASON_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "source_labels": SOURCE_LABELS,
        "result_choices": RESULT_CHOICES,
        "recorded": _count(request.query_params.get("recorded", "")),
        **(extra or {}),
    }
    return render(request, "spotcheck_checklist.html", context, status)


def _count(raw: str) -> str:
    """The ``?recorded=`` count shown after saving, or nothing if it is not a small number."""
    return raw if raw.isascii() and raw.isdigit() and len(raw) <= 2 else ""


def _target(request: Request) -> tuple[int, str] | None:
    year = _year(request.path_params["year"], portal_of(request).today())
    uscc = request.path_params["uscc"].strip().upper()
    return (year, uscc) if year is not None else None


@staff("inspector")
async def checklist_page(request: Request) -> Response:
    """One drawn organisation's HN-2d checklist: suggestions with evidence, standing findings."""
    target = _target(request)
    found = _organisation(request, *target) if target else None
    if target is None or found is None:
        return error_page(request, 404, "该组织不在这一年的抽查名单中。")
    return _checklist(request, target[0], *found)


def _submitted(form: FormData) -> tuple[list[tuple[int, str, str | None]], dict[str, str]]:
    """(item, result, note) for every item given a result, and errors by field (HN-2d)."""
    chosen: list[tuple[int, str, str | None]] = []
    errors: dict[str, str] = {}
    for item in ITEMS:
        result, note = field(form, f"result-{item}"), field(form, f"note-{item}").strip()
        problem = finding_problem(item, result, note) if result else None
        if problem is not None:
            errors[f"{problem[0]}-{item}"] = problem[1]
        elif not result and note:
            errors[f"result-{item}"] = "填写了说明，请同时选择检查结果"
        elif len(note) > NOTE_MAX:
            errors[f"note-{item}"] = f"说明不能超过 {NOTE_MAX} 个字"
        elif result:
            chosen.append((item, result, note or None))
    if not chosen and not errors:
        errors["form"] = "请至少为一个检查项目选择检查结果"
    return chosen, errors


@staff("inspector")
async def record(request: Request) -> Response:
    """Record the submitted findings of one drawn organisation (HN-2d), all or none: any error
    is shown beside its field with 400 and nothing is recorded."""
    portal, v = signed_in(request)
    form = await form_of(request)
    target = _target(request)
    found = _organisation(request, *target) if target else None
    if target is None or found is None:
        return error_page(request, 404, "该组织不在这一年的抽查名单中。")
    year, uscc = target
    chosen, errors = _submitted(form)
    if not errors:
        try:
            with portal.store.write() as conn:
                for item, result, note in chosen:
                    record_finding(
                        conn,
                        year,
                        uscc,
                        item,
                        result,
                        note,
                        portal.today(),
                        f"portal:{v.account.account_id}",
                        "portal",
                        portal.now(),
                    )
        except FindingRefused as refused:
            errors["form"] = str(refused)
    if errors:
        values = {k: field(form, k) for k in form}
        return _checklist(request, year, *found, {"errors": errors, "values": values}, 400)
    return see_other(f"/staff/spotchecks/{year}/{quote(uscc)}?recorded={len(chosen)}")


def report_csv(report: Report) -> bytes:
    """The unit's report as UTF-8 CSV with a BOM, so spreadsheet programs read the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(report):
        writer.writerow(row)  # cells made formula-safe by csv_rows
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@staff("inspector")
async def report_download(request: Request) -> Response:
    """One reporting unit's report for the year (HN-2c: due by the end of October)."""
    portal = portal_of(request)
    year = _year(request.path_params["year"], portal.today())
    unit = request.path_params["unit"]
    found = []
    if year is not None:
        with portal.store.read() as conn:
            found = [r for r in reports(conn, year) if r.unit.code == unit]
    if not found:
        return error_page(request, 404, "没有这个报告单位在这一年的抽查报告。")
    report = found[0]
    name = quote(f"{year}年{report.unit.name}志愿服务记录抽查报告.csv")
    disposition = (
        f"attachment; filename=\"spotcheck-{year}-{report.unit.code}.csv\"; filename*=UTF-8''{name}"
    )
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": disposition, "cache-control": "no-store"},
    )
