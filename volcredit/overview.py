"""Reading the store through the rules: every case with its state and deadline on a date."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, select

from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import CaseEvent, CaseStatus, EventMisfit, PenaltyFacts, replay
from volcredit.rules.visibility import Decision, PenaltyItem, visibility
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.schema import content_tables

penalties = content_tables["penalties"]


_WORKDAYS = select(content_tables["workdays"].c.date, content_tables["workdays"].c.kind)
# A subject's cases, built once (the self-query page runs it on every request).
_SUBJECT_CASES = history.events_query(
    penalties,
    "case_id",
    where=[penalties.c.subject_kind == bindparam("kind"), penalties.c.subject == bindparam("key")],
)


def store_calendar(conn: Connection) -> WorkingCalendar:
    """The official calendar: the bundled one plus the store's ``workdays`` rows."""
    return WorkingCalendar.from_rows((r.date, r.kind) for r in conn.execute(_WORKDAYS))


@dataclass(frozen=True)
class CaseView:
    penalty: dict[str, Any]
    status: CaseStatus | None
    decision: Decision
    error: str | None = None  # the stored events no longer fit the rules

    def as_json(self) -> dict[str, Any]:
        p, s = self.penalty, self.status
        deadline = s.next_deadline if s else None
        return {
            "case_id": p["case_id"],
            "subject_kind": p["subject_kind"],
            "subject": p["subject"],
            "category": p["category"],
            "severity": p["severity"],
            "decided_on": p["decided_on"].isoformat(),
            "state": s.state.value if s else None,
            "state_label": s.label if s else None,
            "next_deadline": None
            if deadline is None
            else {
                "date": deadline.date.isoformat() if deadline.date else None,
                "rule": deadline.rule,
                "label": deadline.label,
                "error": deadline.error,
            },
            "overdue": bool(s and s.overdue),
            "publicity_min_end": s.publicity_min_end.isoformat() if s else None,
            "publicity_max_end": s.publicity_max_end.isoformat() if s else None,
            "public": self.decision.public,
            "public_reason": f"{self.decision.reason} [{self.decision.rule}]",
            "error": self.error,
        }


def cases(
    conn: Connection,
    today: date,
    periods: PublicityPeriods,
    subject: tuple[str, str] | None = None,
) -> Iterator[CaseView]:
    """Every penalty case decided on or before ``today`` (only those about ``subject``, a
    ``(subject_kind, subject)`` pair, when given), in case order, streamed."""
    if subject is None:
        calendar = store_calendar(conn)
        rows: Iterable[tuple[dict[str, Any], list[history.RecordedEvent]]]
        rows = history.with_events(conn, penalties, "case_id")
    else:  # one subject's few cases; the calendar is read only if there is one
        params = {"kind": subject[0], "key": subject[1]}
        rows = list(history.rows_with_events(conn, _SUBJECT_CASES, penalties, "case_id", params))
        if not rows:
            return
        calendar = store_calendar(conn)
    for penalty, recorded in rows:
        events = [CaseEvent(e.event, e.date) for e in recorded]
        yield from _view(penalty, events, today, calendar, periods)


def _view(
    penalty: dict[str, Any],
    events: list[CaseEvent],
    today: date,
    calendar: WorkingCalendar,
    periods: PublicityPeriods,
) -> Iterator[CaseView]:
    facts = PenaltyFacts(penalty["case_id"], penalty["decided_on"], penalty["severity"])
    try:
        status = replay(facts, events, today, calendar, periods)
    except EventMisfit as misfit:
        item = PenaltyItem(penalty["subject_kind"], None)
        yield CaseView(penalty, None, visibility(item, today), f"[{misfit.rule}] {misfit}")
        return
    if status is None:
        return
    yield CaseView(penalty, status, visibility(PenaltyItem(penalty["subject_kind"], status), today))
