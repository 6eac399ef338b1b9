"""``volcredit check --today D``: re-validate the store and report rule warnings.

Errors (exit non-zero): a broken history chain (BJ-23), stored events that no longer fit a case
(BJ-16/17/18), a region's yearly announcement not out after 30 June (HN-1d). Warnings: late
records (HN-2a), records whose timeliness cannot be checked, identifications that contradict
HN-1a–c, an announcement due within June or published late, a region short of the coverage
target (HN-1d), no spot-check draw recorded by 1 September (HN-2c), open deadlines in years
without calendar data (PERIOD).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import Connection, func, select

from volcredit import announcements, identification
from volcredit.overview import cases
from volcredit.problems import Problem, Severity
from volcredit.rules.identification import identification_findings
from volcredit.settings import PublicityPeriods
from volcredit.spotcheck import DRAW_LAST_DAY, recorded_draws
from volcredit.store import history
from volcredit.store.schema import content_tables


def _error(where: str, field: str, message: str, rule: str, line: int = 0) -> Problem:
    return Problem(where, line, field, message, rule)


def _warning(where: str, field: str, message: str, rule: str, line: int = 0) -> Problem:
    return Problem(where, line, field, message, rule, Severity.WARNING)


def check_store(conn: Connection, today: date, periods: PublicityPeriods) -> Iterator[Problem]:
    """Every problem and warning about the store on ``today``."""
    chain = history.verify(conn)
    for message in chain.problems:
        yield _error("history", "", message, "BJ-23")
    yield from _late_records(conn, today)
    yield from _organisations(conn, today)
    yield from _announcements(conn, today)
    yield from _spot_check_draw(conn, today)
    for view in cases(conn, today, periods):
        where = f"penalties {view.penalty['case_id']}"
        if view.error:
            yield _error(where, "events", view.error, "BJ-16", view.penalty["source_line"])
            continue
        deadline = view.status.next_deadline if view.status else None
        if deadline is not None and deadline.error:
            yield _warning(where, "deadline", deadline.error, "PERIOD", view.penalty["source_line"])
        if view.status is not None and view.status.overdue and deadline and deadline.date:
            yield _warning(
                where,
                "deadline",
                f"{deadline.label}已于 {deadline.date.isoformat()} 到期，尚未办结",
                deadline.rule,
                view.penalty["source_line"],
            )


def _late_records(conn: Connection, today: date) -> Iterator[Problem]:
    """HN-2a: late records per organisation (flagged at load), and unchecked ones."""
    r = content_tables["service_records"]
    o = content_tables["organisations"]
    query = (
        select(
            r.c.organisation,
            o.c.name,
            r.c.late_entry,
            func.count().label("n"),
            func.min(r.c.source_line).label("first_line"),
        )
        .join(o, o.c.uscc == r.c.organisation)
        .where(r.c.recorded_on <= today)
        .where((r.c.late_entry.is_(True)) | (r.c.late_entry.is_(None)))
        .group_by(r.c.organisation, o.c.name, r.c.late_entry)
        .order_by(r.c.organisation)
    )
    for uscc, name, late, n, first in conn.execute(query):
        where = f"service_records（{name} {uscc}）"
        if late:
            yield _warning(
                where,
                "recorded_on",
                f"{n} 条记录在活动后超过 10 个工作日才录入（首条在第 {first} 行）",
                "HN-2a",
                first,
            )
        else:
            yield _warning(
                where,
                "recorded_on",
                f"{n} 条记录缺少工作日历，无法检查是否按时录入",
                "PERIOD",
                first,
            )


def _organisations(conn: Connection, today: date) -> Iterator[Problem]:
    """HN-1a–c on the imported facts with the decisions recorded since."""
    found = identification.decisions(conn, today)
    o = content_tables["organisations"]
    query = select(o).where(o.c.source_line != 0).order_by(o.c.uscc)  # not transferred teams
    for row in conn.execute(query.execution_options(yield_per=5000)):
        current = identification.state(row, found, today)
        standing = identification.standing_of(row)
        for rule, message in identification_findings(standing, current, today):
            yield _warning(
                f"organisations（{row.name} {row.uscc}）",
                "identified_on",
                message,
                rule,
                row.source_line,
            )


def _announcements(conn: Connection, today: date) -> Iterator[Problem]:
    """HN-1d: the year's announcement per region, and each region's coverage figure."""
    for region, late in announcements.lateness(conn, today):
        where = f"regions（{region.name} {region.code}）"
        make = _error if late.error else _warning
        yield make(where, "announcement", late.message, "HN-1d")
    for row in announcements.coverage_by_region(conn, today):
        c = row.coverage
        if c.shortfall:
            yield _warning(
                f"regions（{row.region.name} {row.region.code}）",
                "population",
                f"每百万人口认定 {c.per_million} 家，低于 20 家的目标，缺 {c.shortfall} 家",
                "HN-1d",
            )


def _spot_check_draw(conn: Connection, today: date) -> Iterator[Problem]:
    """HN-2c: the year's checks happen before September, so the draw must be recorded by then."""
    if today > date(today.year, *DRAW_LAST_DAY) and not recorded_draws(conn, today.year):
        yield _warning(
            "history",
            "spot_check_drawn",
            f"{today.year} 年尚未记录抽查名单（应在 9 月前完成抽查）："
            "运行 volcredit spotcheck --record",
            "HN-2c",
        )
