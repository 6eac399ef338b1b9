"""The due-process state machine (BJ-16, BJ-17, BJ-18) and publicity windows (PUB-4)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.builders import calendar_2027_fixture
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import (
    CaseEvent,
    CaseState,
    EventMisfit,
    PenaltyFacts,
    replay,
)
from volcredit.settings import PublicityPeriods

CAL = WorkingCalendar()
PERIODS = PublicityPeriods()
GENERAL = PenaltyFacts("P1", date(2025, 6, 2), "general")
SERIOUS = PenaltyFacts("P2", date(2025, 6, 2), "serious")


def state(events: list[tuple[str, date]], today: date, facts: PenaltyFacts = GENERAL):  # type: ignore[no-untyped-def]
    status = replay(facts, [CaseEvent(e, d) for e, d in events], today, CAL, PERIODS)
    assert status is not None
    return status


def test_case_does_not_exist_before_its_decision() -> None:
    assert replay(GENERAL, [], date(2025, 6, 1), CAL, PERIODS) is None
    assert state([], date(2025, 6, 2)).state is CaseState.AWAITING_NOTICE


def test_bj16b_statement_period_is_10_working_days_then_deemed_listed() -> None:
    """BJ-16b/BJ-16d: notice on Thu 2025-09-25 -> statements until 2025-10-15 (National Day);
    from 10-16 the case is listed, deemed without objection."""
    events = [("notice_served", date(2025, 9, 25))]
    on_deadline = state(events, date(2025, 10, 15))
    assert on_deadline.state is CaseState.NOTIFIED
    assert on_deadline.next_deadline is not None
    assert (on_deadline.next_deadline.rule, on_deadline.next_deadline.date) == (
        "BJ-16b",
        date(2025, 10, 15),
    )
    assert not on_deadline.overdue  # the subject's period, not a duty of the department
    after = state(events, date(2025, 10, 16))
    assert (after.state, after.listed_on) == (CaseState.LISTED, date(2025, 10, 16))


def test_bj16b_announcement_period_is_30_days_moved_past_a_holiday() -> None:
    """BJ-16b: notice by announcement on 2025-09-01 -> 30 days end 10-01, a holiday -> 10-09."""
    events = [("notice_announced", date(2025, 9, 1))]
    s = state(events, date(2025, 10, 9))
    assert s.state is CaseState.ANNOUNCED and s.next_deadline.date == date(2025, 10, 9)  # type: ignore[union-attr]
    assert state(events, date(2025, 10, 10)).state is CaseState.LISTED


def test_bj16c_verification_deadline_and_overdue() -> None:
    """BJ-16c: the department decides within 10 working days of the statement: from 09-30,
    10-09 .. 10-17 and 10-20, 10-21 (10-11 is a 调休 Saturday)."""
    events = [("notice_served", date(2025, 9, 25)), ("statement_received", date(2025, 9, 30))]
    s = state(events, date(2025, 10, 21))
    assert s.state is CaseState.STATEMENT_UNDER_REVIEW
    assert s.next_deadline.date == date(2025, 10, 21) and not s.overdue  # type: ignore[union-attr]
    late = state(events, date(2025, 10, 22))
    assert late.overdue and late.next_deadline.rule == "BJ-16c"  # type: ignore[union-attr]


def test_bj16d_statement_under_review_or_not_listed_is_never_listed() -> None:
    """BJ-16d: listed by decision, or deemed; never while verifying, never after 'not listed'."""
    base = [("notice_served", date(2025, 9, 25)), ("statement_received", date(2025, 9, 30))]
    assert state(base, date(2026, 1, 1)).state is CaseState.STATEMENT_UNDER_REVIEW
    listed = state([*base, ("decided_listed", date(2025, 10, 10))], date(2025, 10, 10))
    assert (listed.state, listed.listed_on) == (CaseState.LISTED, date(2025, 10, 10))
    dropped = state([*base, ("decided_not_listed", date(2025, 10, 10))], date(2025, 12, 1))
    assert dropped.state is CaseState.NOT_LISTED and dropped.next_deadline is None


def test_bj16c_no_decision_before_notice_and_no_late_statement() -> None:
    with pytest.raises(EventMisfit) as misfit:
        state([("decided_listed", date(2025, 7, 1))], date(2025, 8, 1))
    assert misfit.value.rule == "BJ-16c" and misfit.value.index == 0
    late = [("notice_served", date(2025, 9, 25)), ("statement_received", date(2025, 10, 16))]
    with pytest.raises(EventMisfit) as misfit:
        state(late, date(2025, 11, 1))
    assert misfit.value.index == 1


LISTED = [("notice_served", date(2025, 6, 3))]  # deemed listed from 2025-06-18


def test_bj17a_objection_marks_entry_and_has_7_working_day_deadline() -> None:
    """BJ-17a: objection to published info; verify within 7 working days; upheld -> corrected."""
    events = [*LISTED, ("published_objection_received", date(2025, 9, 26))]
    s = state(events, date(2025, 10, 13))
    assert s.state is CaseState.OBJECTION
    # 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13: the 7th working day.
    assert s.next_deadline.date == date(2025, 10, 13) and not s.overdue  # type: ignore[union-attr]
    assert state(events, date(2025, 10, 14)).overdue
    upheld = state([*events, ("published_objection_upheld", date(2025, 10, 10))], date(2025, 11, 1))
    assert (upheld.state, upheld.corrected_on) == (CaseState.LISTED, date(2025, 10, 10))
    rejected = state(
        [*events, ("published_objection_rejected", date(2025, 10, 10))], date(2025, 11, 1)
    )
    assert (rejected.state, rejected.corrected_on) == (CaseState.LISTED, None)


def test_bj18_repair_only_after_the_minimum_period() -> None:
    """BJ-18: general severity: minimum 3 months from 2025-06-02 ends 2025-09-02."""
    with pytest.raises(EventMisfit) as misfit:
        state([*LISTED, ("repair_applied", date(2025, 9, 2))], date(2025, 9, 2))
    assert misfit.value.rule == "BJ-18"
    applied = [*LISTED, ("repair_applied", date(2025, 9, 3))]
    assert state(applied, date(2025, 9, 3)).state is CaseState.REPAIR_APPLIED
    repaired = state([*applied, ("repair_approved", date(2025, 9, 20))], date(2025, 9, 20))
    assert (repaired.state, repaired.closed_on) == (CaseState.REPAIRED, date(2025, 9, 20))
    back = state([*applied, ("repair_rejected", date(2025, 9, 20))], date(2025, 9, 21))
    assert back.state is CaseState.LISTED


def test_bj18_serious_minimum_is_one_year() -> None:
    with pytest.raises(EventMisfit):
        state([*LISTED, ("repair_applied", date(2026, 6, 2))], date(2026, 6, 2), SERIOUS)
    ok = state([*LISTED, ("repair_applied", date(2026, 6, 3))], date(2026, 6, 3), SERIOUS)
    assert ok.state is CaseState.REPAIR_APPLIED


def test_pub4_maximum_period_ends_publication() -> None:
    """PUB-4: general severity at most 1 year from the decision: public through 2026-06-02."""
    assert state(LISTED, date(2026, 6, 2)).state is CaseState.LISTED
    expired = state(LISTED, date(2026, 6, 3))
    assert (expired.state, expired.closed_on) == (CaseState.EXPIRED, date(2026, 6, 3))
    assert state(LISTED, date(2028, 6, 2), SERIOUS).state is CaseState.LISTED
    assert state(LISTED, date(2028, 6, 3), SERIOUS).state is CaseState.EXPIRED


def test_pub4_periods_are_configurable() -> None:
    periods = PublicityPeriods(general_min_months=1, general_max_months=2)
    s = replay(GENERAL, [CaseEvent(*LISTED[0])], date(2025, 8, 3), CAL, periods)
    assert s is not None and s.state is CaseState.EXPIRED


def test_state_on_a_past_date_ignores_later_events() -> None:
    """DESIGN: the state on a date uses only events dated on or before it."""
    events = [*LISTED, ("repair_applied", date(2025, 9, 3)), ("repair_approved", date(2025, 9, 20))]
    assert state(events, date(2025, 9, 19)).state is CaseState.REPAIR_APPLIED
    assert state(events, date(2025, 7, 1)).state is CaseState.LISTED
    assert state(events, date(2025, 6, 10)).state is CaseState.NOTIFIED


def test_period_deadline_in_uncovered_year_is_reported_not_guessed() -> None:
    """PERIOD: a notice on 2026-12-24 has its deadline in 2027: an explicit error on the case."""
    facts = PenaltyFacts("P3", date(2026, 12, 1), "general")
    events = [CaseEvent("notice_served", date(2026, 12, 24))]
    s = replay(facts, events, date(2027, 2, 1), CAL, PERIODS)
    assert s is not None and s.state is CaseState.NOTIFIED  # never deemed listed on a guess
    assert s.next_deadline is not None and s.next_deadline.date is None
    assert "2027" in (s.next_deadline.error or "")
    with pytest.raises(CalendarGapError):
        replay(facts, events, date(2027, 2, 1), CAL, PERIODS, strict=True)
    cal = WorkingCalendar(calendar_2027_fixture())
    s = replay(facts, events, date(2027, 2, 1), cal, PERIODS)
    assert s is not None and s.state is CaseState.LISTED
