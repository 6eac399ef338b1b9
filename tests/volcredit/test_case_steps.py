"""What each due-process step needs (BJ-16a, BJ-16b, BJ-16c, BJ-17a, BJ-18) and when the rules
refuse a new step (:func:`volcredit.rules.cases.refusal`, PERIOD, BJ-23). Pure: no store."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from tests.builders import calendar_2027_fixture
from volcredit.case_steps import (
    MAX_EVIDENCE_FILES,
    MAX_FILE_BYTES,
    MAX_TEXT,
    STEPS,
    Upload,
    file_problem,
    problems,
    sniff,
)
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import (
    CaseEvent,
    CaseState,
    CaseStatus,
    EventMisfit,
    PenaltyFacts,
    refusal,
    replay,
)
from volcredit.settings import PublicityPeriods

CAL = WorkingCalendar()
PERIODS = PublicityPeriods()
P1 = PenaltyFacts("P1", date(2025, 6, 2), "general")  # minimum publicity ends 2025-09-02
LATE = PenaltyFacts("P9", date(2026, 12, 1), "general")

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 32
REPAIR_FILES = [
    Upload("commitment", "承诺书.pdf", PDF),
    Upload("rectification", "整改.jpg", JPEG),
    Upload("credit_report", "report.png", PNG),
]


def ev(kind: str, day: date) -> CaseEvent:
    return CaseEvent(kind, day)


def status_on(
    facts: PenaltyFacts, events: list[CaseEvent], today: date, cal: WorkingCalendar = CAL
) -> CaseStatus:
    s = replay(facts, events, today, cal, PERIODS)
    assert s is not None
    return s


# --- problems: what a step needs, per form field ------------------------------------------


def test_steps_table_subject_steps_and_rules() -> None:
    """BJ-16b/BJ-17a/BJ-18: only the statement, the objection and the repair application are
    the subject's; every step names its rule."""
    assert {e for e, s in STEPS.items() if s.by_subject} == {
        "statement_received",
        "published_objection_received",
        "repair_applied",
    }
    assert all(s.rule.startswith("BJ-1") for s in STEPS.values())


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("notice_served", {"reasons": "请填写理由", "basis": "请填写依据"}),
        ("notice_announced", {"reasons": "请填写理由", "basis": "请填写依据"}),
        ("statement_received", {"statement": "请填写陈述申辩意见"}),
        ("decided_listed", {"reasons": "请填写理由"}),
        ("decided_not_listed", {"reasons": "请填写理由"}),
        ("published_objection_received", {"objection": "请填写异议内容及理由"}),
        (
            "published_objection_upheld",
            {"answer": "请填写书面答复", "correction": "请填写更正内容"},
        ),
        ("published_objection_rejected", {"answer": "请填写书面答复"}),
        ("repair_approved", {"reasons": "请填写理由"}),
        ("repair_rejected", {"reasons": "请填写理由"}),
    ],
)
def test_bj16a_required_texts_missing_keyed_by_field(event: str, expected: dict[str, str]) -> None:
    """BJ-16a/BJ-16c/BJ-17a/BJ-18: each required text missing (or blank) is an error under its
    own form field, in Chinese."""
    assert problems(STEPS[event], {}, []) == expected
    blanks = {name: "  \n " for name in expected}
    assert problems(STEPS[event], blanks, []) == expected
    filled = {name: "内容" for name in expected}
    assert problems(STEPS[event], filled, []) == {}


def test_bj16a_text_too_long_or_with_nul_is_refused() -> None:
    step = STEPS["notice_served"]
    long = {"reasons": "字" * (MAX_TEXT + 1), "basis": "依据"}
    assert problems(step, long, []) == {"reasons": f"理由不能超过 {MAX_TEXT} 字（现有 2001 字）"}
    assert problems(step, {"reasons": "字" * MAX_TEXT, "basis": "依据"}, []) == {}
    assert problems(step, {"reasons": "a\x00b", "basis": "依据"}, []) == {
        "reasons": "理由含有不能保存的字符"
    }


def test_bj18_repair_application_needs_three_files() -> None:
    """BJ-18: commitment, rectification and credit report are each required; the commitment
    text is optional."""
    step = STEPS["repair_applied"]
    assert problems(step, {}, []) == {
        "commitment": "请上传信用修复承诺书",
        "rectification": "请上传整改完成的证明材料",
        "credit_report": "请上传信用报告",
    }
    assert problems(step, {}, REPAIR_FILES[:2]) == {"credit_report": "请上传信用报告"}
    assert problems(step, {}, REPAIR_FILES) == {}
    assert problems(step, {"commitment_text": "本单位承诺整改"}, REPAIR_FILES) == {}


def test_bj16b_file_type_is_read_from_its_bytes_not_its_name() -> None:
    """BJ-16b: evidence must be PDF, JPEG or PNG by its bytes, whatever it is called."""
    step = STEPS["statement_received"]
    texts = {"statement": "我方已退还费用"}
    disguised = [Upload("evidence", "证据.pdf", EXE)]
    assert problems(step, texts, disguised) == {
        "evidence": "证据材料（可选，PDF、JPEG 或 PNG）：文件须为 PDF、JPEG 或 PNG"
    }
    honest = [Upload("evidence", "odd-name.exe", PNG), Upload("evidence", "", JPEG)]
    assert problems(step, texts, honest) == {}
    assert problems(step, texts, [Upload("evidence", "e.pdf", PDF)]) == {}
    assert problems(step, texts, []) == {}  # evidence is optional


def test_bj18_disguised_repair_file_is_refused_under_its_slot() -> None:
    """BJ-18: a text file named .pdf in the credit-report slot is refused in that slot."""
    uploads = [*REPAIR_FILES[:2], Upload("credit_report", "report.pdf", b"just text")]
    assert problems(STEPS["repair_applied"], {}, uploads) == {
        "credit_report": "信用报告：文件须为 PDF、JPEG 或 PNG"
    }


def test_bj16b_files_over_5_mb_or_empty_are_refused() -> None:
    big = PDF + b"\x00" * (MAX_FILE_BYTES - len(PDF) + 1)
    assert len(big) == 5 * 1024 * 1024 + 1
    assert file_problem(big) == "文件不能超过 5 MB"
    assert file_problem(big[:-1]) is None  # exactly 5 MB is fine
    assert file_problem(b"") == "文件是空的"
    step = STEPS["statement_received"]
    got = problems(step, {"statement": "s"}, [Upload("evidence", "big.pdf", big)])
    assert got == {"evidence": "证据材料（可选，PDF、JPEG 或 PNG）：文件不能超过 5 MB"}


def test_bj16b_unknown_file_kind_and_too_many_files_are_refused() -> None:
    step = STEPS["statement_received"]
    texts = {"statement": "s"}
    assert problems(step, texts, [Upload("virus", "v.pdf", PDF)]) == {
        "virus": "此步骤不接受这类文件"
    }
    # A staff step takes no files at all (BJ-16a).
    notice = {"reasons": "r", "basis": "b"}
    assert problems(STEPS["notice_served"], notice, [Upload("evidence", "e.pdf", PDF)]) == {
        "evidence": "此步骤不接受这类文件"
    }
    many = [Upload("evidence", f"{i}.pdf", PDF) for i in range(MAX_EVIDENCE_FILES + 1)]
    assert problems(step, texts, many) == {
        "evidence": f"证据材料（可选，PDF、JPEG 或 PNG）最多 {MAX_EVIDENCE_FILES} 个文件"
    }
    assert problems(step, texts, many[:MAX_EVIDENCE_FILES]) == {}


def test_sniff_magic_bytes() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(PNG) == "image/png"
    assert sniff(EXE) is None and sniff(b"") is None
    assert sniff(b"GIF89a") is None and sniff(b" %PDF-") is None


# --- refusal: whether a new step fits the case on its date -------------------------------


def test_bj23_backdated_step_is_refused() -> None:
    """BJ-23: a step dated before an event already recorded would rewrite history: refused."""
    events = [ev("notice_served", date(2025, 6, 10)), ev("statement_received", date(2025, 6, 20))]
    found = refusal(P1, events, ev("decided_listed", date(2025, 6, 15)), CAL, PERIODS)
    assert isinstance(found, EventMisfit) and found.rule == "BJ-23"
    assert "2025-06-20" in str(found) and found.index == 2
    # The same date as the last event is not backdated.
    assert refusal(P1, events, ev("decided_listed", date(2025, 6, 20)), CAL, PERIODS) is None


def test_bj16c_bj17a_steps_that_do_not_fit_the_state_are_refused() -> None:
    """BJ-16c: no decision without a statement; BJ-17a: no objection before listing;
    BJ-16: nothing after a closed case."""
    notified = [ev("notice_served", date(2025, 6, 10))]
    found = refusal(P1, notified, ev("decided_listed", date(2025, 6, 12)), CAL, PERIODS)
    assert isinstance(found, EventMisfit) and found.rule == "BJ-16c"
    found = refusal(
        P1, notified, ev("published_objection_received", date(2025, 6, 12)), CAL, PERIODS
    )
    assert isinstance(found, EventMisfit) and found.rule == "BJ-17a"
    closed = [*notified, ev("decided_not_listed", date(2025, 6, 12))]
    found = refusal(P1, closed, ev("notice_served", date(2025, 6, 13)), CAL, PERIODS)
    assert isinstance(found, EventMisfit) and "案件已结束" in str(found)


def test_bj16b_statement_after_national_day_deadline_names_the_last_day() -> None:
    """BJ-16b/PERIOD: notice served Mon 2025-09-29. Counted from 09-30 (1); 10-01..10-08 is
    the National Day holiday; 10-09 (2), 10-10 (3), Sat 10-11 调休 (4), 10-13..10-17 (5-9),
    Mon 10-20 (10). The statement period ends 2025-10-20."""
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # a 调休 working Saturday
    assert not any(chinese_calendar.is_workday(date(2025, 10, d)) for d in range(1, 9))
    notice = [ev("notice_served", date(2025, 9, 29))]
    s = status_on(P1, notice, date(2025, 9, 29))
    assert s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-16b", date(2025, 10, 20))
    assert refusal(P1, notice, ev("statement_received", date(2025, 10, 20)), CAL, PERIODS) is None
    late = refusal(P1, notice, ev("statement_received", date(2025, 10, 21)), CAL, PERIODS)
    assert isinstance(late, EventMisfit) and late.rule == "BJ-16b"
    assert str(late) == "陈述申辩期限已于 2025-10-20 届满，未提出视为无异议，案件已列入"


def test_bj16b_spring_festival_2026_statement_deadline() -> None:
    """BJ-16b/PERIOD: 2026 Spring Festival: 02-15..02-23 off, Sat 02-14 and Sat 02-28 worked.
    Notice Thu 2026-02-12: 02-13 (1), 02-14 调休 (2), 02-24..02-27 (3-6), 02-28 调休 (7),
    03-02 (8), 03-03 (9), 03-04 (10): the period ends Wed 2026-03-04."""
    assert chinese_calendar.is_workday(date(2026, 2, 14))
    assert chinese_calendar.is_workday(date(2026, 2, 28))
    assert not any(chinese_calendar.is_workday(date(2026, 2, d)) for d in range(15, 24))
    facts = PenaltyFacts("P5", date(2026, 1, 20), "general")
    notice = [ev("notice_served", date(2026, 2, 12))]
    s = status_on(facts, notice, date(2026, 2, 12))
    assert s.next_deadline is not None and s.next_deadline.date == date(2026, 3, 4)
    assert status_on(facts, notice, date(2026, 3, 4)).state is CaseState.NOTIFIED
    after = status_on(facts, notice, date(2026, 3, 5))
    assert (after.state, after.listed_on) == (CaseState.LISTED, date(2026, 3, 5))
    late = refusal(facts, notice, ev("statement_received", date(2026, 3, 5)), CAL, PERIODS)
    assert isinstance(late, EventMisfit) and "2026-03-04" in str(late)


def test_bj16c_verification_deadline_over_spring_festival_2026() -> None:
    """BJ-16c: statement received Fri 2026-02-13: 02-14 调休 (1), 02-24..02-27 (2-5),
    02-28 调休 (6), 03-02..03-05 (7-10): the department decides by Thu 2026-03-05."""
    facts = PenaltyFacts("P5", date(2026, 1, 20), "general")
    events = [ev("notice_served", date(2026, 2, 10)), ev("statement_received", date(2026, 2, 13))]
    s = status_on(facts, events, date(2026, 3, 5))
    assert s.next_deadline is not None and s.next_deadline.duty_of_department
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-16c", date(2026, 3, 5))
    assert not s.overdue and status_on(facts, events, date(2026, 3, 6)).overdue


@pytest.mark.parametrize(
    ("announced", "thirtieth", "last_day"),
    [
        # 30th day Sun 2026-02-15 is in the Spring Festival holiday (02-15..02-23) -> Tue 02-24.
        (date(2026, 1, 16), date(2026, 2, 15), date(2026, 2, 24)),
        # 30th day is Sun 2025-12-07, an ordinary rest day -> Mon 12-08.
        (date(2025, 11, 7), date(2025, 12, 7), date(2025, 12, 8)),
        # 30th day Sat 2025-10-04 in National Day (10-01..10-08) -> Thu 10-09.
        (date(2025, 9, 4), date(2025, 10, 4), date(2025, 10, 9)),
        # 30th day Sat 2026-02-28 is a 调休 working Saturday: the period ends that day.
        (date(2026, 1, 29), date(2026, 2, 28), date(2026, 2, 28)),
    ],
)
def test_period_bj16b_announcement_30_days_end_on_next_working_day(
    announced: date, thirtieth: date, last_day: date
) -> None:
    """PERIOD (Civil Code Art. 203) / BJ-16b: notice by announcement gives 30 days; when the
    30th day is a holiday or rest day the period ends on the next working day."""
    assert (thirtieth - announced).days == 30
    facts = PenaltyFacts("P6", date(2025, 8, 1), "general")
    events = [ev("notice_announced", announced)]
    s = status_on(facts, events, announced)
    assert s.state is CaseState.ANNOUNCED and s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-16b", last_day)
    assert status_on(facts, events, last_day).state is CaseState.ANNOUNCED
    on_time = refusal(facts, events, ev("statement_received", last_day), CAL, PERIODS)
    assert on_time is None
    next_day = date.fromordinal(last_day.toordinal() + 1)
    assert status_on(facts, events, next_day).listed_on == next_day
    late = refusal(facts, events, ev("statement_received", next_day), CAL, PERIODS)
    assert isinstance(late, EventMisfit) and late.rule == "BJ-16b"
    assert last_day.isoformat() in str(late)


def test_period_statement_deadline_in_2027_needs_the_2027_calendar() -> None:
    """PERIOD/BJ-16b: notice served Thu 2026-12-24: 12-25, 12-28..12-31 count (5), then 2027,
    which chinese_calendar does not bundle: an error, never a guess."""
    notice = [ev("notice_served", date(2026, 12, 24))]
    assert refusal(LATE, [], notice[0], CAL, PERIODS) is None  # the gap starts after the notice
    s = status_on(LATE, notice, date(2026, 12, 24))
    assert s.next_deadline is not None and s.next_deadline.date is None
    assert s.next_deadline.rule == "BJ-16" and "2027" in (s.next_deadline.error or "")
    gap = refusal(LATE, notice, ev("statement_received", date(2027, 1, 5)), CAL, PERIODS)
    assert isinstance(gap, CalendarGapError) and gap.year == 2027
    # With the (invented) 2027 calendar: 01-01..01-03 off, 01-04 (6) .. 01-08 (10).
    cal = WorkingCalendar(calendar_2027_fixture())
    s = status_on(LATE, notice, date(2026, 12, 24), cal)
    assert s.next_deadline is not None and s.next_deadline.date == date(2027, 1, 8)
    assert refusal(LATE, notice, ev("statement_received", date(2027, 1, 5)), cal, PERIODS) is None
    late = refusal(LATE, notice, ev("statement_received", date(2027, 1, 11)), cal, PERIODS)
    assert isinstance(late, EventMisfit) and "2027-01-08" in str(late)


def test_period_announcement_in_2027_is_refused_without_the_calendar() -> None:
    """PERIOD: an announcement on 2027-01-06 cannot state its end without the 2027 calendar.
    With the fixture: the 30th day 2027-02-05 is a holiday (02-05..02-13), 02-14 a Sunday, so
    the period ends Mon 2027-02-15."""
    new = ev("notice_announced", date(2027, 1, 6))
    gap = refusal(LATE, [], new, CAL, PERIODS)
    assert isinstance(gap, CalendarGapError) and "2027" in str(gap)
    cal = WorkingCalendar(calendar_2027_fixture())
    assert refusal(LATE, [], new, cal, PERIODS) is None
    s = status_on(LATE, [new], date(2027, 1, 6), cal)
    assert s.next_deadline is not None and s.next_deadline.date == date(2027, 2, 15)


def test_bj17a_objection_deadline_in_2027_is_reported_on_the_deadline() -> None:
    """BJ-17a/PERIOD: an objection on 2026-12-28 needs 2027 for its 7 working days; with the
    fixture: 12-29..12-31 (3), 01-04..01-07 (4-7) -> 2027-01-07."""
    facts = PenaltyFacts("P7", date(2026, 6, 1), "general")
    events = [
        ev("notice_served", date(2026, 6, 2)),
        ev("published_objection_received", date(2026, 12, 28)),
    ]
    s = status_on(facts, events, date(2026, 12, 28))
    assert s.state is CaseState.OBJECTION and s.next_deadline is not None
    assert s.next_deadline.rule == "BJ-17a" and s.next_deadline.date is None
    cal = WorkingCalendar(calendar_2027_fixture())
    s = status_on(facts, events, date(2026, 12, 28), cal)
    assert s.next_deadline is not None and s.next_deadline.date == date(2027, 1, 7)


def test_bj18_repair_before_minimum_period_names_the_first_allowed_day() -> None:
    """BJ-18/PUB-4: general severity from 2025-06-02: minimum ends 2025-09-02, so repair may be
    applied for from 2025-09-03."""
    listed = [ev("notice_served", date(2025, 6, 3))]  # deemed listed from 2025-06-18
    early = refusal(P1, listed, ev("repair_applied", date(2025, 9, 2)), CAL, PERIODS)
    assert isinstance(early, EventMisfit) and early.rule == "BJ-18"
    assert str(early) == "最短公示期 2025-09-02 届满，自 2025-09-03 起才能申请信用修复"
    assert refusal(P1, listed, ev("repair_applied", date(2025, 9, 3)), CAL, PERIODS) is None
    approved = ev("repair_approved", date(2025, 9, 4))
    not_applied = refusal(P1, listed, approved, CAL, PERIODS)
    assert isinstance(not_applied, EventMisfit) and not_applied.rule == "BJ-18"


def test_bj16_unknown_event_is_refused() -> None:
    found = refusal(P1, [], ev("deletion_requested", date(2025, 7, 1)), CAL, PERIODS)
    assert isinstance(found, EventMisfit) and found.rule == "BJ-16"
