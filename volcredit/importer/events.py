"""Validating imported due-process events against the case's state (BJ-16, BJ-17, BJ-18).

New events are checked together with the events the store's history already holds for the same
case, through the same :func:`volcredit.rules.cases.replay` the rest of the system uses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from volcredit.contract import HONOUR_EVENT_KINDS
from volcredit.importer.report import ProblemLog
from volcredit.importer.staging import stage_tables as st
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import CaseEvent, EventMisfit, PenaltyFacts, replay
from volcredit.settings import PublicityPeriods
from volcredit.store import history

IMPORT_SOURCE = "import"


@dataclass(frozen=True)
class ImportedEvent:
    ref: str
    event: str
    date: date
    note: str | None
    line: int | None  # None: already in the history

    @property
    def identity(self) -> tuple[str, str, date, str | None]:
        return (self.ref, self.event, self.date, self.note)


def _existing(conn: Connection) -> tuple[dict[str, list[ImportedEvent]], set[tuple[object, ...]]]:
    """History entries about cases and honours, and the identities of earlier imported events."""
    by_ref: dict[str, list[ImportedEvent]] = defaultdict(list)
    imported: set[tuple[object, ...]] = set()
    for e in history.entries(conn):
        if e.ref in ("", "content"):
            continue
        ev = ImportedEvent(e.ref, e.event, e.date, e.note, None)
        by_ref[e.ref].append(ev)
        if e.source == IMPORT_SOURCE:
            imported.add(ev.identity)
    return by_ref, imported


def validate_events(
    conn: Connection,
    log: ProblemLog,
    label: str,
    calendar: WorkingCalendar,
    periods: PublicityPeriods,
) -> list[ImportedEvent]:
    """Check every staged event; return the ones the history does not hold yet, in file order."""
    existing, imported = _existing(conn)
    penalties = {
        r.case_id: PenaltyFacts(r.case_id, r.decided_on, r.severity)
        for r in conn.execute(
            select(
                st["penalties"].c.case_id, st["penalties"].c.decided_on, st["penalties"].c.severity
            )
        )
        if r.decided_on is not None and r.severity is not None
    }
    person_honours = {
        r.honour_id: r.subject_kind
        for r in conn.execute(select(st["honours"].c.honour_id, st["honours"].c.subject_kind))
    }
    t = st["events"]
    new: list[ImportedEvent] = []
    for r in conn.execute(select(t).order_by(t.c.source_line)):
        if r.ref is None or r.event is None or r.date is None:
            continue  # already reported field by field
        ev = ImportedEvent(r.ref, r.event, r.date, r.note, r.source_line)
        if ev.identity in imported:
            continue  # imported by an earlier load: the history already holds it
        if _fits_reference(ev, penalties, person_honours, log, label):
            new.append(ev)
    by_case: dict[str, list[ImportedEvent]] = defaultdict(list)
    for ev in new:
        by_case[ev.ref].append(ev)
    for ref, added in by_case.items():
        if ref in penalties:
            _replay_case(
                penalties[ref], existing.get(ref, []) + added, calendar, periods, log, label
            )
        else:
            _check_deletion(existing.get(ref, []) + added, log, label)
    return new


def _fits_reference(
    ev: ImportedEvent,
    penalties: dict[str, PenaltyFacts],
    honours: dict[str, str],
    log: ProblemLog,
    label: str,
) -> bool:
    line = ev.line or 0
    if ev.event in HONOUR_EVENT_KINDS:
        kind = honours.get(ev.ref)
        if kind is None:
            log.error(label, line, "ref", f"没有这个荣誉：{ev.ref}", "BJ-17b")
            return False
        if kind != "person":
            log.error(label, line, "event", "只有个人可以要求删除其良好信息", "BJ-17b")
            return False
        return True
    if ev.ref not in penalties:
        log.error(label, line, "ref", f"没有这个不良信息案件：{ev.ref}", "BJ-16")
        return False
    return True


def _replay_case(
    facts: PenaltyFacts,
    events: list[ImportedEvent],
    calendar: WorkingCalendar,
    periods: PublicityPeriods,
    log: ProblemLog,
    label: str,
) -> None:
    case_events = [CaseEvent(e.event, e.date) for e in events]
    last = max(e.date for e in events)
    try:
        replay(facts, case_events, last, calendar, periods, strict=True)
    except EventMisfit as misfit:
        bad = events[misfit.index]
        log.error(label, bad.line or 0, "event", f"案件 {facts.case_id}：{misfit}", misfit.rule)
    except CalendarGapError as gap:
        line = next((e.line for e in events if e.line), 0)
        log.error(label, line, "date", f"案件 {facts.case_id} 的期限无法核对：{gap}", "PERIOD")


def _check_deletion(events: list[ImportedEvent], log: ProblemLog, label: str) -> None:
    for ev in events[1:]:
        if ev.line is not None:
            log.error(label, ev.line, "event", f"荣誉 {ev.ref} 已经要求删除过", "BJ-17b")
