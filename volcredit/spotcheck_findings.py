"""Spot-check checklists, findings and the yearly report (HN-2c, HN-2d). Never public (PUB-1).

Findings come from the imported ``spot_check_findings`` table and from checkers on the staff
pages or the CLI (history events ``spot_check_finding`` on ``SCF-<year>-<uscc>``); for each item
the latest stands. Reports go to the province by the end of October per city (prefecture):
a city's report covers the city's own draw and those of its counties; the districts of a
municipality report with the municipality.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, case, func, or_, select

from volcredit import publication as pub
from volcredit.rules.checklist import (
    Finding,
    ItemResult,
    OrganisationFacts,
    checklist,
    finding_problem,
)
from volcredit.spotcheck import RecordedDraw, drawn_in, recorded_draws
from volcredit.store import history
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

FINDING = "spot_check_finding"
REPORT_DUE = (10, 31)  # HN-2c: the report is due by the end of October
_CHUNK = 500
# CQ-6 elements a complete record has beyond the contract's required fields (HN-2d item 1).
_RECORD_ELEMENTS = (
    "place",
    "recipients",
    "content",
    "punctuality",
    "attitude",
    "skill",
    "contact_person",
)


def finding_ref(year: int, uscc: str) -> str:
    return f"SCF-{year}-{uscc}"


def facts(conn: Connection, year: int, usccs: list[str]) -> dict[str, OrganisationFacts]:
    """What the records and complaints of ``year`` tell about each organisation (HN-2d)."""
    sr, c = content_tables["service_records"], content_tables["complaints"]
    first, last = date(year, 1, 1), date(year, 12, 31)
    missing = or_(*(sr.c[n].is_(None) for n in _RECORD_ELEMENTS))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    excluded: dict[str, dict[int, int]] = defaultdict(dict)
    complaints: dict[str, int] = {}
    for start in range(0, len(usccs), _CHUNK):
        chunk = usccs[start : start + _CHUNK]
        rows = conn.execute(
            select(
                sr.c.organisation,
                sr.c.excluded_kind,
                func.count(),
                func.sum(case((missing, 1), else_=0)),
                func.sum(case((sr.c.late_entry.is_(True), 1), else_=0)),
                func.sum(case((sr.c.late_entry.is_(None), 1), else_=0)),
            )
            .where(sr.c.organisation.in_(chunk), sr.c.date.between(first, last))
            .group_by(sr.c.organisation, sr.c.excluded_kind)
        )
        for uscc, kind, n, incomplete, late, unknown in rows:
            total = counts[uscc]
            total[0] += n
            total[1] += int(incomplete or 0)
            total[2] += int(late or 0)
            total[3] += int(unknown or 0)
            if kind is not None:
                excluded[uscc][int(kind)] = n
        complaints.update(
            conn.execute(
                select(c.c.subject, func.count())
                .where(
                    c.c.subject_kind == "organisation",
                    c.c.subject.in_(chunk),
                    c.c.received_on.between(first, last),
                )
                .group_by(c.c.subject)
            ).all()
        )
    return {
        u: OrganisationFacts(*counts[u], excluded.get(u, {}), complaints.get(u, 0)) for u in usccs
    }


def findings(conn: Connection, year: int, usccs: list[str]) -> dict[str, list[Finding]]:
    """Every finding for ``usccs`` in ``year``: imported first, then recorded, in order."""
    f, h = content_tables["spot_check_findings"], history_table
    out: dict[str, list[Finding]] = defaultdict(list)
    for start in range(0, len(usccs), _CHUNK):
        chunk = usccs[start : start + _CHUNK]
        for row in conn.execute(
            select(f.c.organisation, f.c.item, f.c.result, f.c.note)
            .where(f.c.year == year, f.c.organisation.in_(chunk))
            .order_by(f.c.organisation, f.c.item)
        ):
            out[row.organisation].append(
                Finding(int(row.item), row.result, row.note, "import", None)
            )
        refs = {finding_ref(year, u): u for u in chunk}
        for row in conn.execute(
            select(h.c.ref, h.c.date, h.c.note, h.c.payload, h.c.source)
            .where(h.c.event == FINDING, h.c.ref.in_(list(refs)))
            .order_by(h.c.seq)
        ):
            p = row.payload
            out[refs[row.ref]].append(
                Finding(int(p["item"]), p["result"], row.note, row.source, row.date)
            )
    return out


class FindingRefused(ValueError):
    """A finding that cannot be recorded, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def record_finding(
    conn: Connection,
    year: int,
    uscc: str,
    item: int,
    result: str,
    note: str | None,
    today: date,
    actor: str,
    source: str,
    now: datetime,
) -> history.Entry:
    """Append a checker's finding for a drawn organisation (HN-2d), in the caller's write
    transaction. Only organisations in the year's recorded draw can have findings."""
    problem = finding_problem(item, result, note)
    if problem is not None:
        raise FindingRefused(*problem)
    if drawn_in(conn, year, uscc) is None:
        raise FindingRefused("organisation", f"{uscc} 不在 {year} 年的抽查名单中")
    payload = {"item": item, "result": result}
    event = history.NewEvent(finding_ref(year, uscc), FINDING, today, actor, source, note, payload)
    return history.append(conn, [event], now)[0]


@dataclass(frozen=True)
class CheckedOrganisation:
    uscc: str
    name: str
    reason: str  # complaint | weighted (staff only: complaints are never public)
    facts: OrganisationFacts
    items: list[ItemResult]

    @property
    def open_items(self) -> int:
        return sum(1 for i in self.items if i.outcome == "open")

    @property
    def failed_items(self) -> int:
        return sum(1 for i in self.items if i.outcome == "fail")


@dataclass(frozen=True)
class RegionReport:
    region: pub.PublicRegion
    draw: RecordedDraw
    organisations: list[CheckedOrganisation]


@dataclass(frozen=True)
class Report:
    """One reporting unit's report for the year (HN-2c): its regions' draws and checklists."""

    unit: pub.PublicRegion
    year: int
    seed: str
    regions: list[RegionReport]
    due: date


def reporting_unit(regions: dict[str, pub.PublicRegion], code: str) -> str:
    """The city a drawing region reports with: a city itself, a county's city, or the
    municipality (province level) of a county directly under it."""
    region = regions.get(code)
    if region is None or region.level == "city" or region.parent is None:
        return code
    return region.parent


def checked(
    conn: Connection, year: int, draws: list[RecordedDraw]
) -> dict[str, list[CheckedOrganisation]]:
    """Each region's drawn organisations with their pre-filled checklists and findings, read
    for all ``draws`` at once (in chunks), by region code."""
    usccs = sorted({u for d in draws for u, _ in d.drawn})
    o = content_tables["organisations"]
    names: dict[str, str] = {}
    for start in range(0, len(usccs), _CHUNK):
        chunk = usccs[start : start + _CHUNK]
        names.update(conn.execute(select(o.c.uscc, o.c.name).where(o.c.uscc.in_(chunk))).all())
    known = facts(conn, year, usccs)
    found = findings(conn, year, usccs)
    return {
        d.region: [
            CheckedOrganisation(
                uscc,
                names.get(uscc, uscc),
                reason,
                known[uscc],
                checklist(known[uscc], found[uscc]),
            )
            for uscc, reason in d.drawn
        ]
        for d in draws
    }


def reports(conn: Connection, year: int) -> list[Report]:
    """Every reporting unit's report for ``year`` from the recorded draw (empty: no draw)."""
    regions = pub.regions(conn)
    grouped: dict[str, list[RegionReport]] = defaultdict(list)
    seed = ""
    draws = recorded_draws(conn, year)
    orgs = checked(conn, year, draws)
    for draw in draws:
        seed = draw.seed
        region = regions.get(draw.region)
        if region is None:
            continue
        unit = reporting_unit(regions, draw.region)
        grouped[unit].append(RegionReport(region, draw, orgs[draw.region]))
    return [
        Report(regions[unit], year, seed, grouped[unit], date(year, *REPORT_DUE))
        for unit in sorted(grouped)
        if unit in regions
    ]


REASON_LABELS = {
    "complaint": "当年有投诉或负面舆情，必查",
    "weighted": "按志愿者人数和活动量加权抽取",
}
OUTCOME_LABELS = {"pass": "通过", "fail": "不通过", "open": "待检查"}
CSV_HEADER = (
    "报告单位",
    "地区代码",
    "地区",
    "统一社会信用代码",
    "组织名称",
    "抽取原因",
    "检查项目",
    "检查内容",
    "预填建议",
    "预填依据",
    "检查结果",
    "说明",
    "来源",
)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): notes are typed by
    checkers and names come from platform exports."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(report: Report) -> Iterator[tuple[str, ...]]:
    """The report as CSV rows (header first): one row per organisation and HN-2d item, every
    cell safe to open in a spreadsheet."""
    yield CSV_HEADER
    for row in _rows(report):
        yield tuple(_cell(v) for v in row)


def _rows(report: Report) -> Iterator[tuple[str, ...]]:
    for section in report.regions:
        for org in section.organisations:
            for item in org.items:
                suggestion = item.prefill.suggestion
                yield (
                    report.unit.name,
                    section.region.code,
                    section.region.name,
                    org.uscc,
                    org.name,
                    REASON_LABELS.get(org.reason, org.reason),
                    str(item.item),
                    item.label,
                    OUTCOME_LABELS[suggestion] if suggestion else "",
                    item.prefill.evidence,
                    OUTCOME_LABELS[item.outcome],
                    (item.finding.note or "") if item.finding else "",
                    item.finding.source if item.finding else "",
                )
