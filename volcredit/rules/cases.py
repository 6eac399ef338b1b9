"""The due-process state of a bad-info case on a date (BJ-16, BJ-17, BJ-18, PUB-4).

:func:`replay` is a pure function of the penalty's facts, its events and ``today``: only events
dated on or before ``today`` count, so a past date reproduces what was true then. An event that
does not fit the case's state raises :class:`EventMisfit`; the importer and the portal use the same
function to refuse such events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum

from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.periods import add_calendar_days, add_months, add_working_days
from volcredit.settings import PublicityPeriods

STATEMENT_WORKING_DAYS = 10  # BJ-16b
ANNOUNCEMENT_DAYS = 30  # BJ-16b
VERIFICATION_WORKING_DAYS = 10  # BJ-16c
OBJECTION_WORKING_DAYS = 7  # BJ-17a


class CaseState(Enum):
    AWAITING_NOTICE = "awaiting_notice"
    NOTIFIED = "notified"
    ANNOUNCED = "announced"
    STATEMENT_UNDER_REVIEW = "statement_under_review"
    LISTED = "listed"
    OBJECTION = "objection"
    REPAIR_APPLIED = "repair_applied"
    NOT_LISTED = "not_listed"
    REPAIRED = "repaired"
    EXPIRED = "expired"


STATE_LABELS: dict[CaseState, str] = {
    CaseState.AWAITING_NOTICE: "待告知",
    CaseState.NOTIFIED: "已书面告知，陈述申辩期内",
    CaseState.ANNOUNCED: "已公告告知，公告期内",
    CaseState.STATEMENT_UNDER_REVIEW: "陈述申辩核查中",
    CaseState.LISTED: "已列入，公示中",
    CaseState.OBJECTION: "异议处理中",
    CaseState.REPAIR_APPLIED: "信用修复审核中",
    CaseState.NOT_LISTED: "决定不列入",
    CaseState.REPAIRED: "已信用修复，停止公示",
    CaseState.EXPIRED: "公示期满，停止公示",
}

# States in which the entry is inside due process that ended with listing (BJ-16d).
LISTED_STATES = frozenset({CaseState.LISTED, CaseState.OBJECTION, CaseState.REPAIR_APPLIED})
CLOSED_STATES = frozenset({CaseState.NOT_LISTED, CaseState.REPAIRED, CaseState.EXPIRED})


@dataclass(frozen=True)
class PenaltyFacts:
    """What the rules need to know about a penalty case."""

    case_id: str
    decided_on: date
    severity: str  # general | serious


@dataclass(frozen=True)
class CaseEvent:
    event: str
    date: date


@dataclass(frozen=True)
class Deadline:
    """The next deadline of a case: its date (or why it cannot be computed), rule and meaning."""

    rule: str
    label: str
    date: date | None
    error: str | None = None
    duty_of_department: bool = False


@dataclass(frozen=True)
class CaseStatus:
    case_id: str
    state: CaseState
    publicity_min_end: date
    publicity_max_end: date
    notice_on: date | None = None
    statement_on: date | None = None
    listed_on: date | None = None
    objection_on: date | None = None
    corrected_on: date | None = None
    repair_applied_on: date | None = None
    closed_on: date | None = None
    next_deadline: Deadline | None = None
    overdue: bool = False

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


class EventMisfit(ValueError):
    """An event that does not fit the case's state on its date."""

    def __init__(self, index: int, message: str, rule: str) -> None:
        self.index = index
        self.rule = rule
        super().__init__(message)


def publicity_window(facts: PenaltyFacts, periods: PublicityPeriods) -> tuple[date, date]:
    """Last day of the minimum and of the maximum publicity period (PUB-4)."""
    low, high = periods.months(facts.severity)
    return add_months(facts.decided_on, low), add_months(facts.decided_on, high)


class _Replay:
    """Walks a case's events in order, applying time-driven transitions between them."""

    def __init__(self, facts: PenaltyFacts, cal: WorkingCalendar, periods: PublicityPeriods):
        self.cal = cal
        low, high = publicity_window(facts, periods)
        self.status = CaseStatus(facts.case_id, CaseState.AWAITING_NOTICE, low, high)
        self.facts = facts

    def _set(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]

    def subject_deadline(self) -> date:
        """BJ-16b: the last day the subject may file a statement."""
        s = self.status
        assert s.notice_on is not None
        if s.state is CaseState.ANNOUNCED:
            return add_calendar_days(self.cal, s.notice_on, ANNOUNCEMENT_DAYS)
        return add_working_days(self.cal, s.notice_on, STATEMENT_WORKING_DAYS)

    def subject_period_ended(self, day: date) -> date | None:
        """The last day of the BJ-16b period if it ended before ``day``, else ``None``.

        Needs the calendar only up to ``day``: when counting stops at a year without calendar
        data that begins after ``day``, the period certainly runs past ``day``.
        """
        try:
            end = self.subject_deadline()
        except CalendarGapError as gap:
            if day < date(gap.year, 1, 1):
                return None
            raise
        return end if day > end else None

    def advance_to(self, day: date) -> None:
        """Apply transitions that happen by the passing of time up to and including ``day``."""
        s = self.status
        if s.state in (CaseState.NOTIFIED, CaseState.ANNOUNCED):
            end = self.subject_period_ended(day)
            if end is not None:  # BJ-16d: the period ended with no statement, deemed no objection
                self._set(state=CaseState.LISTED, listed_on=end + timedelta(days=1))
        s = self.status
        if s.state in LISTED_STATES and day > s.publicity_max_end:  # PUB-4 maximum reached
            self._set(state=CaseState.EXPIRED, closed_on=s.publicity_max_end + timedelta(days=1))

    def apply(self, index: int, ev: CaseEvent) -> None:  # noqa: C901 - one branch per event kind
        s = self.status
        if ev.date < self.facts.decided_on:
            raise EventMisfit(index, "事件日期早于处罚决定日期", "BJ-16")
        if s.state in CLOSED_STATES:
            raise EventMisfit(index, f"案件已结束（{s.label}），不能再有事件", "BJ-16")
        kind, day = ev.event, ev.date
        listing = kind in ("notice_served", "notice_announced", "decided_listed")
        if listing and day > s.publicity_max_end:  # nothing left to publish: cannot be listed
            end = s.publicity_max_end.isoformat()
            raise EventMisfit(index, f"最长公示期已于 {end} 届满，不能再告知或列入", "PUB-4")
        if kind in ("notice_served", "notice_announced"):
            self._need(index, kind, {CaseState.AWAITING_NOTICE}, "BJ-16a")
            state = CaseState.NOTIFIED if kind == "notice_served" else CaseState.ANNOUNCED
            self._set(state=state, notice_on=day)
        elif kind == "statement_received":
            if s.state in LISTED_STATES and s.statement_on is None and s.listed_on is not None:
                end = (s.listed_on - timedelta(days=1)).isoformat()
                message = f"陈述申辩期限已于 {end} 届满，未提出视为无异议，案件已列入"
                raise EventMisfit(index, message, "BJ-16b")
            self._need(index, kind, {CaseState.NOTIFIED, CaseState.ANNOUNCED}, "BJ-16b")
            self._set(state=CaseState.STATEMENT_UNDER_REVIEW, statement_on=day)
        elif kind == "decided_listed":
            self._need(index, kind, {CaseState.STATEMENT_UNDER_REVIEW}, "BJ-16c")
            self._set(state=CaseState.LISTED, listed_on=day)
        elif kind == "decided_not_listed":
            allowed = {CaseState.NOTIFIED, CaseState.ANNOUNCED, CaseState.STATEMENT_UNDER_REVIEW}
            self._need(index, kind, allowed, "BJ-16c")
            self._set(state=CaseState.NOT_LISTED, closed_on=day)
        elif kind == "published_objection_received":
            self._need(index, kind, {CaseState.LISTED}, "BJ-17a")
            self._set(state=CaseState.OBJECTION, objection_on=day)
        elif kind in ("published_objection_upheld", "published_objection_rejected"):
            self._need(index, kind, {CaseState.OBJECTION}, "BJ-17a")
            corrected = day if kind == "published_objection_upheld" else s.corrected_on
            self._set(state=CaseState.LISTED, objection_on=None, corrected_on=corrected)
        elif kind == "repair_applied":
            self._need(index, kind, {CaseState.LISTED}, "BJ-18")
            if day <= s.publicity_min_end:
                first = s.publicity_min_end + timedelta(days=1)
                raise EventMisfit(
                    index,
                    f"最短公示期 {s.publicity_min_end.isoformat()} 届满，"
                    f"自 {first.isoformat()} 起才能申请信用修复",
                    "BJ-18",
                )
            self._set(state=CaseState.REPAIR_APPLIED, repair_applied_on=day)
        elif kind in ("repair_approved", "repair_rejected"):
            self._need(index, kind, {CaseState.REPAIR_APPLIED}, "BJ-18")
            if kind == "repair_approved":
                self._set(state=CaseState.REPAIRED, closed_on=day)
            else:
                self._set(state=CaseState.LISTED, repair_applied_on=None)
        else:
            raise EventMisfit(index, f"事件 {kind} 不适用于不良信息案件", "BJ-16")

    def _need(self, index: int, kind: str, allowed: set[CaseState], rule: str) -> None:
        if self.status.state not in allowed:
            raise EventMisfit(
                index, f"事件 {kind} 与案件当时的状态（{self.status.label}）不符", rule
            )

    def finish(self, today: date) -> CaseStatus:
        s = self.status
        deadline = self._next_deadline()
        overdue = bool(
            deadline and deadline.duty_of_department and deadline.date and today > deadline.date
        )
        return replace(s, next_deadline=deadline, overdue=overdue)

    def _next_deadline(self) -> Deadline | None:
        s = self.status
        try:
            if s.state is CaseState.NOTIFIED:
                return Deadline("BJ-16b", "陈述申辩期限（10个工作日）", self.subject_deadline())
            if s.state is CaseState.ANNOUNCED:
                return Deadline("BJ-16b", "公告期满（30日）", self.subject_deadline())
            if s.state is CaseState.STATEMENT_UNDER_REVIEW:
                assert s.statement_on is not None
                end = add_working_days(self.cal, s.statement_on, VERIFICATION_WORKING_DAYS)
                return Deadline("BJ-16c", "核查并作出决定（10个工作日）", end, None, True)
            if s.state is CaseState.OBJECTION:
                assert s.objection_on is not None
                end = add_working_days(self.cal, s.objection_on, OBJECTION_WORKING_DAYS)
                return Deadline("BJ-17a", "异议核查答复（7个工作日）", end, None, True)
        except CalendarGapError as gap:
            rule = "BJ-17a" if s.state is CaseState.OBJECTION else "BJ-16"
            return Deadline(rule, "期限无法计算", None, str(gap), True)
        if s.state in (CaseState.LISTED, CaseState.REPAIR_APPLIED):
            return Deadline("PUB-4", "最长公示期届满", s.publicity_max_end)
        return None


def replay(
    facts: PenaltyFacts,
    events: Sequence[CaseEvent],
    today: date,
    calendar: WorkingCalendar,
    periods: PublicityPeriods,
    *,
    strict: bool = False,
) -> CaseStatus | None:
    """The case's status on ``today``; ``None`` if the penalty was decided after ``today``.

    ``events`` are taken in date order (recorded order within a day); those dated after ``today``
    are ignored (DESIGN.md). A
    deadline that needs a year without calendar data is reported on the deadline, never guessed;
    until it can be computed the case is not deemed listed (BJ-16d). With ``strict`` (used to
    validate new events) such a gap raises :class:`CalendarGapError` instead.
    """
    if facts.decided_on > today:
        return None
    walk = _Replay(facts, calendar, periods)
    for index in sorted(range(len(events)), key=lambda i: events[i].date):
        ev = events[index]
        if ev.date > today:
            continue
        _advance(walk, ev.date, strict)
        walk.apply(index, ev)
    _advance(walk, today, strict)
    return walk.finish(today)


def refusal(
    facts: PenaltyFacts,
    events: Sequence[CaseEvent],
    new: CaseEvent,
    calendar: WorkingCalendar,
    periods: PublicityPeriods,
) -> EventMisfit | CalendarGapError | None:
    """Why ``new`` cannot follow ``events`` on its date (BJ-16–18), or ``None`` if it can.

    Events dated after ``new`` make it a backdated step: refused, the history is appended to in
    date order. A time-driven transition that needs a year without calendar data is refused
    too (PERIOD: never a guess).
    """
    if new.date < facts.decided_on:
        return EventMisfit(len(events), "事件日期早于处罚决定日期", "BJ-16")
    if events and max(e.date for e in events) > new.date:
        last = max(e.date for e in events).isoformat()
        return EventMisfit(len(events), f"案件已有 {last} 的记录，不能记录更早日期的步骤", "BJ-23")
    try:
        replay(facts, [*events, new], new.date, calendar, periods, strict=True)
    except (EventMisfit, CalendarGapError) as problem:
        return problem
    return None


def _advance(walk: _Replay, day: date, strict: bool) -> None:
    try:
        walk.advance_to(day)
    except CalendarGapError:
        if strict:
            raise
        # The deadline is unknown: stay in the current state and report it on the deadline.
