"""Validating imported due-process events against the case's state (BJ-16, BJ-17, BJ-18).

Every penalty is replayed with the events its history already holds plus the new ones, through
the same :func:`volcredit.rules.cases.replay` the rest of the system uses, so a reload that changes
a penalty's facts cannot leave recorded events that no longer fit. Runs inside the write
transaction that appends the new events (the history is locked meanwhile).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from volcredit.contract import HONOUR_EVENT_KINDS
from volcredit.good_info import deletion_problem
from volcredit.importer.report import ProblemLog
from volcredit.importer.staging import stage_tables as st
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import CaseEvent, EventMisfit, PenaltyFacts, replay
from volcredit.settings import PublicityPeriods
from volcredit.store.history import with_events
from volcredit.store.schema import history

IMPORT_SOURCE = "import"
SYSTEM_REFS = ("content",)


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


class EventCheck:
    """Checks the staged events and the history against the staged penalties and honours."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        periods: PublicityPeriods,
        today: date,
        labels: dict[str, str],
        log: ProblemLog,
    ) -> None:
        self.calendar, self.periods, self.today = calendar, periods, today
        self.label, self.penalties_label = labels["events"], labels["penalties"]
        self.log = log

    def run(self, conn: Connection) -> list[ImportedEvent]:
        """Report every misfit; return the events the history does not hold yet, in file order."""
        staged = self._staged(conn)
        self._shared_references(conn)
        new: list[ImportedEvent] = []
        for facts, line, existing in self._cases(conn):
            added = self._new_only(staged.pop(facts.case_id, []), existing)
            self._replay(facts, line, existing, added)
            new += added
        honours = self._honours(conn, list(staged))
        for ref, events in staged.items():
            added = self._new_only(events, self._existing(conn, ref))
            new += self._check_honour_events(ref, honours.get(ref), added, conn)
        self._orphans(conn)
        return sorted(new, key=lambda e: e.line or 0)

    def _staged(self, conn: Connection) -> dict[str, list[ImportedEvent]]:
        t = st["events"]
        staged: dict[str, list[ImportedEvent]] = defaultdict(list)
        for r in conn.execute(select(t).order_by(t.c.source_line)):
            if r.ref is None or r.event is None or r.date is None:
                continue  # already reported field by field
            staged[r.ref].append(ImportedEvent(r.ref, r.event, r.date, r.note, r.source_line))
            if r.date > self.today:
                self.log.warning(
                    self.label,
                    r.source_line,
                    "date",
                    f"事件日期晚于今天（{self.today.isoformat()}），到那天才生效",
                )
        return staged

    def _shared_references(self, conn: Connection) -> None:
        p, h = st["penalties"], st["honours"]
        query = select(p.c.source_line, p.c.case_id).join(h, h.c.honour_id == p.c.case_id)
        for line, ref in conn.execute(query):
            self.log.error(
                self.penalties_label,
                line,
                "case_id",
                f"{ref} 同时是一个荣誉的编号：事件无法区分它们",
            )

    def _cases(self, conn: Connection) -> Iterator[tuple[PenaltyFacts, int, list[ImportedEvent]]]:
        """Every staged penalty with the events the history holds for it, streamed in order."""
        for p, recorded in with_events(conn, st["penalties"], "case_id"):
            if p["decided_on"] is None or p["severity"] is None:
                continue  # already reported field by field
            facts = PenaltyFacts(p["case_id"], p["decided_on"], p["severity"])
            existing = [
                ImportedEvent(p["case_id"], e.event, e.date, e.note, None) for e in recorded
            ]
            yield facts, p["source_line"], existing

    @staticmethod
    def _new_only(
        events: list[ImportedEvent], existing: list[ImportedEvent]
    ) -> list[ImportedEvent]:
        """Drop events an earlier load imported already (the history keeps them once)."""
        known = {e.identity for e in existing}
        return [e for e in events if e.identity not in known]

    def _replay(
        self,
        facts: PenaltyFacts,
        line: int,
        existing: list[ImportedEvent],
        added: list[ImportedEvent],
    ) -> None:
        events = existing + added
        if not events:
            return
        until = max(max(e.date for e in events), facts.decided_on)
        try:
            replay(
                facts,
                [CaseEvent(e.event, e.date) for e in events],
                until,
                self.calendar,
                self.periods,
                strict=True,
            )
        except EventMisfit as misfit:
            bad = events[misfit.index]
            if bad.line is not None:
                self.log.error(
                    self.label, bad.line, "event", f"案件 {facts.case_id}：{misfit}", misfit.rule
                )
            else:
                self.log.error(
                    self.penalties_label,
                    line,
                    "decided_on",
                    f"案件 {facts.case_id} 已记录的事件与新数据不符（历史不可更改）：{misfit}",
                    misfit.rule,
                )
        except CalendarGapError as gap:
            where = next((e.line for e in added), None)
            self.log.error(
                self.label if where else self.penalties_label,
                where or line,
                "date",
                f"案件 {facts.case_id} 的期限无法核对：{gap}",
                "PERIOD",
            )

    def _honours(self, conn: Connection, refs: list[str]) -> dict[str, Any]:
        h = st["honours"]
        found: dict[str, Any] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            query = select(h.c.honour_id, h.c.subject_kind, h.c.awarded_on)
            for r in conn.execute(query.where(h.c.honour_id.in_(chunk))):
                found[r.honour_id] = r
        return found

    def _existing(self, conn: Connection, ref: str) -> list[ImportedEvent]:
        query = select(history.c.event, history.c.date, history.c.note).where(history.c.ref == ref)
        return [ImportedEvent(ref, *r, None) for r in conn.execute(query.order_by(history.c.seq))]

    def _check_honour_events(
        self, ref: str, honour: Any, added: list[ImportedEvent], conn: Connection
    ) -> list[ImportedEvent]:
        """BJ-17b: a deletion request, once, on a person's honour, after it was awarded."""
        accepted: list[ImportedEvent] = []
        requested = any(e.event == "deletion_requested" for e in self._existing(conn, ref))
        for ev in added:
            line = ev.line or 0
            if ev.event not in HONOUR_EVENT_KINDS:
                self.log.error(self.label, line, "ref", f"没有这个不良信息案件：{ref}", "BJ-16")
            elif honour is None:
                self.log.error(self.label, line, "ref", f"没有这个荣誉：{ref}", "BJ-17b")
            elif problem := deletion_problem(
                honour.subject_kind, honour.awarded_on, requested, ev.date
            ):
                self.log.error(self.label, line, problem[0], f"{ref}：{problem[1]}", "BJ-17b")
            else:
                requested = True
                accepted.append(ev)
        return accepted

    def _orphans(self, conn: Connection) -> None:
        """History about cases or honours this load no longer has: kept, and reported."""
        p, h = st["penalties"], st["honours"]
        query = (
            select(history.c.ref)
            .where(history.c.ref.not_in(SYSTEM_REFS))
            .where(~history.c.ref.in_(select(p.c.case_id).where(p.c.case_id.is_not(None))))
            .where(~history.c.ref.in_(select(h.c.honour_id).where(h.c.honour_id.is_not(None))))
            .distinct()
            .order_by(history.c.ref)
        )
        for (ref,) in conn.execute(query):
            self.log.warning(
                self.penalties_label,
                0,
                "case_id",
                f"历史中有 {ref} 的事件，但本次导入没有它；历史记录保留不变",
            )
