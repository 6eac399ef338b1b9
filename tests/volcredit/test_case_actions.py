"""Taking due-process steps in a stored case (BJ-16a–d, BJ-17a, BJ-18, PERIOD, BJ-23), with the
files they carry and the written documents they produce; on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.builders import ORG_A, ORG_B, base_tables, calendar_2027_fixture, load, write_content
from volcredit import case_actions
from volcredit.case_actions import StepRefused
from volcredit.case_documents import document_of
from volcredit.case_steps import Upload
from volcredit.rules.cases import CaseState
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.engine import Store
from volcredit.store.schema import case_files

PERIODS = PublicityPeriods()  # general severity: 3 to 12 months from 2025-06-02
NOW = datetime(2025, 6, 1, 9, 0, 0)
SUBJECT = ("organisation", ORG_A)
NAME = "东城区阳光志愿者协会"

NOTICE_ON = date(2025, 6, 10)  # Tue; 06-11..06-13, 06-16..06-20, 06-23, 06-24: ends 06-24
STATEMENT_ON = date(2025, 6, 20)  # Fri; 06-23..06-27, 06-30, 07-01..07-04: decide by 07-04
LISTED_ON = date(2025, 7, 1)
OBJECTION_ON = date(2025, 9, 26)  # Fri; 09-28 调休, 09-29, 09-30, 10-09, 10-10, 10-11 调休, 10-13
UPHELD_ON = date(2025, 10, 10)
REPAIR_ON = date(2025, 11, 3)  # after the minimum period (ends 2025-09-02)
APPROVED_ON = date(2025, 11, 20)
MAX_END = date(2026, 6, 2)  # PUB-4: one year from 2025-06-02

PDF = b"%PDF-1.4\n% statement evidence\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x01" * 100
REPAIR = [
    Upload("commitment", "c.pdf", PDF),
    Upload("rectification", "r.png", PNG),
    Upload("credit_report", "k.jpg", JPEG),
]
NOTICE_TEXTS = {
    "reasons": "经查实，该组织向服务对象收取费用",
    "basis": "《北京市志愿服务信用信息管理办法》",
}


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    assert load(store, write_content(tmp_path / "content", base_tables())).ok
    return store


def take(store: Store, event: str, day: date, **kw: Any) -> history.Entry:
    kw.setdefault("actor", "staff:wang")
    kw.setdefault("source", "portal")
    with store.write() as conn:
        return case_actions.record(conn, "P1", event, today=day, now=NOW, periods=PERIODS, **kw)


def case(store: Store, day: date) -> case_actions.CaseRecord:
    with store.read() as conn:
        found = case_actions.load(conn, "P1", day, PERIODS)
    assert found is not None and found.error is None and found.status is not None
    return found


def history_count(store: Store) -> int:
    with store.read() as conn:
        return sum(1 for _ in history.entries(conn))


def assert_chain_ok(store: Store) -> None:
    with store.read() as conn:
        assert history.verify(conn).ok


def refused(store: Store, event: str, day: date, **kw: Any) -> StepRefused:
    before = history_count(store)
    with pytest.raises(StepRefused) as caught:
        take(store, event, day, **kw)
    assert history_count(store) == before  # nothing appended when refused
    return caught.value


def to_listed(store: Store) -> None:
    take(store, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS)
    statement = {"statement": "费用已全部退还"}
    take(store, "statement_received", STATEMENT_ON, texts=statement, subject=SUBJECT)
    take(store, "decided_listed", LISTED_ON, texts={"reasons": "陈述申辩理由不成立"})


def test_bj16_bj17a_bj18_case_walked_step_by_step(loaded: Store) -> None:
    """BJ-16a notice, BJ-16b statement with evidence, BJ-16c decision, BJ-17a objection upheld,
    BJ-18 repair with three files, approved: state, deadline, history and files after each."""
    store = loaded
    assert case(store, NOTICE_ON).status.state is CaseState.AWAITING_NOTICE  # type: ignore[union-attr]

    e = take(store, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS, actor="staff:li", source="cli")
    assert (e.ref, e.event, e.date, e.actor, e.source) == (
        "P1",
        "notice_served",
        NOTICE_ON,
        "staff:li",
        "cli",
    )
    assert e.payload == {"texts": NOTICE_TEXTS}
    s = case(store, NOTICE_ON).status
    assert s is not None and s.state is CaseState.NOTIFIED
    assert s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-16b", date(2025, 6, 24))
    assert_chain_ok(store)

    evidence = Upload("evidence", "退款凭证.pdf", PDF)
    e = take(
        store,
        "statement_received",
        STATEMENT_ON,
        texts={"statement": "费用已全部退还"},
        uploads=[evidence],
        subject=SUBJECT,
        actor=f"organisation:{ORG_A}",
    )
    assert (e.actor, e.source) == (f"organisation:{ORG_A}", "portal")
    sha = hashlib.sha256(PDF).hexdigest()
    assert e.payload is not None
    assert e.payload["files"] == [
        {"kind": "evidence", "name": "退款凭证.pdf", "sha256": sha, "size": len(PDF)}
    ]
    found = case(store, STATEMENT_ON)
    assert found.status is not None and found.status.state is CaseState.STATEMENT_UNDER_REVIEW
    deadline = found.status.next_deadline
    assert deadline is not None and deadline.duty_of_department
    assert (deadline.rule, deadline.date) == ("BJ-16c", date(2025, 7, 4))
    [meta] = found.files[e.seq]
    assert (meta["kind"], meta["media_type"], meta["sha256"]) == (
        "evidence",
        "application/pdf",
        sha,
    )
    with store.read() as conn:
        assert case_actions.file_of(conn, "P1", meta["file_id"]) == (
            "退款凭证.pdf",
            "application/pdf",
            PDF,
        )
        assert case_actions.file_of(conn, "P2", meta["file_id"]) is None  # another case's id
    assert case(store, date(2025, 7, 7)).status.overdue  # type: ignore[union-attr]
    assert_chain_ok(store)

    take(store, "decided_listed", LISTED_ON, texts={"reasons": "陈述申辩理由不成立"})
    s = case(store, LISTED_ON).status
    assert s is not None and (s.state, s.listed_on) == (CaseState.LISTED, LISTED_ON)
    assert s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("PUB-4", MAX_END)

    objection = {"objection": "处罚类别有误"}
    take(store, "published_objection_received", OBJECTION_ON, texts=objection, subject=SUBJECT)
    s = case(store, OBJECTION_ON).status
    assert s is not None and s.state is CaseState.OBJECTION
    assert s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-17a", date(2025, 10, 13))
    assert_chain_ok(store)

    upheld = {"answer": "经核查，异议成立", "correction": "类别更正为第二项"}
    take(store, "published_objection_upheld", UPHELD_ON, texts=upheld)
    s = case(store, UPHELD_ON).status
    assert s is not None and (s.state, s.corrected_on) == (CaseState.LISTED, UPHELD_ON)
    assert s.next_deadline is not None and s.next_deadline.date == MAX_END

    files = [
        Upload("commitment", "承诺书.pdf", PDF + b"commitment"),
        Upload("rectification", "整改.jpg", JPEG),
        Upload("credit_report", "信用报告.png", PNG),
    ]
    e = take(store, "repair_applied", REPAIR_ON, uploads=files, subject=SUBJECT)
    assert e.payload is not None and e.payload["texts"] == {}  # the optional text left empty
    assert [f["sha256"] for f in e.payload["files"]] == [
        hashlib.sha256(up.data).hexdigest() for up in files
    ]
    found = case(store, REPAIR_ON)
    assert found.status is not None and found.status.state is CaseState.REPAIR_APPLIED
    assert found.status.next_deadline is not None
    assert found.status.next_deadline.date == MAX_END
    stored = found.files[e.seq]
    assert [f["media_type"] for f in stored] == ["application/pdf", "image/jpeg", "image/png"]
    with store.read() as conn:
        for f, up in zip(stored, files, strict=True):
            assert case_actions.file_of(conn, "P1", f["file_id"]) == (
                up.name,
                f["media_type"],
                up.data,
            )
            assert f["sha256"] in {p["sha256"] for p in e.payload["files"]}
    assert_chain_ok(store)

    take(store, "repair_approved", APPROVED_ON, texts={"reasons": "整改到位"})
    s = case(store, APPROVED_ON).status
    assert s is not None and (s.state, s.closed_on) == (CaseState.REPAIRED, APPROVED_ON)
    assert s.next_deadline is None
    found = case(store, APPROVED_ON)
    assert [x.event for x in found.entries] == [
        "notice_served",
        "statement_received",
        "decided_listed",
        "published_objection_received",
        "published_objection_upheld",
        "repair_applied",
        "repair_approved",
    ]
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(case_files)).scalar_one() == 4
    assert_chain_ok(store)
    # The state on a past date is still what it was (replayed, never stored).
    assert case(store, OBJECTION_ON).status.state is CaseState.OBJECTION  # type: ignore[union-attr]


def test_bj16_subject_may_act_only_in_their_own_case(loaded: Store) -> None:
    """BJ-16: a subject who does not own the case is told there is no such case."""
    take(loaded, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS)
    err = refused(
        loaded,
        "statement_received",
        STATEMENT_ON,
        texts={"statement": "s"},
        subject=("organisation", ORG_B),
    )
    assert err.rule == "BJ-16" and "P1" in str(err) and err.fields == {}
    err = refused(
        loaded,
        "statement_received",
        STATEMENT_ON,
        texts={"statement": "s"},
        subject=("person", ORG_A),
    )
    assert err.rule == "BJ-16"


def test_bj16c_staff_only_step_refused_to_the_subject(loaded: Store) -> None:
    """BJ-16c/BJ-16a: deciding and notifying are the department's; the subject cannot."""
    take(loaded, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS)
    take(loaded, "statement_received", STATEMENT_ON, texts={"statement": "s"}, subject=SUBJECT)
    err = refused(loaded, "decided_listed", LISTED_ON, texts={"reasons": "r"}, subject=SUBJECT)
    assert err.rule == "BJ-16c" and "登记机关" in str(err)
    err = refused(loaded, "repair_approved", LISTED_ON, texts={"reasons": "r"}, subject=SUBJECT)
    assert err.rule == "BJ-18"


def test_bj16a_bj18_missing_texts_and_files_refused_by_field(loaded: Store) -> None:
    """BJ-16a: a notice without reasons and basis; BJ-18: repair without its files or with a
    disguised file: StepRefused with per-field messages."""
    err = refused(loaded, "notice_served", NOTICE_ON, texts={"reasons": " "})
    assert err.rule == "BJ-16a"
    assert err.fields == {"reasons": "请填写理由", "basis": "请填写依据"}
    to_listed(loaded)
    fake = Upload("credit_report", "报告.pdf", b"<html>not a pdf</html>")
    uploads = [Upload("commitment", "c.pdf", PDF), Upload("rectification", "r.png", PNG), fake]
    err = refused(loaded, "repair_applied", REPAIR_ON, uploads=uploads, subject=SUBJECT)
    assert err.rule == "BJ-18"
    assert err.fields == {"credit_report": "信用报告：文件须为 PDF、JPEG 或 PNG"}
    err = refused(loaded, "repair_applied", REPAIR_ON, uploads=uploads[:1], subject=SUBJECT)
    assert set(err.fields) == {"rectification", "credit_report"}
    with loaded.read() as conn:
        assert conn.execute(select(func.count()).select_from(case_files)).scalar_one() == 0


def test_bj16_bj23_refusals_out_of_order_and_unknown(loaded: Store) -> None:
    """BJ-16: unknown step or case; BJ-16c: a decision without a statement; BJ-23: a step dated
    before one already recorded; BJ-18: repair before the minimum period."""
    err = refused(loaded, "delete_case", NOTICE_ON)
    assert err.rule == "BJ-16" and err.fields == {"event": "请选择一个步骤"}
    with loaded.write() as conn, pytest.raises(StepRefused) as caught:
        kw: dict[str, Any] = {"actor": "a", "source": "cli", "now": NOW, "periods": PERIODS}
        case_actions.record(
            conn, "NOPE", "notice_served", today=NOTICE_ON, texts=NOTICE_TEXTS, **kw
        )
    assert caught.value.rule == "BJ-16"
    take(loaded, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS)
    err = refused(loaded, "decided_listed", date(2025, 6, 12), texts={"reasons": "r"})
    assert err.rule == "BJ-16c"
    take(loaded, "statement_received", STATEMENT_ON, texts={"statement": "s"}, subject=SUBJECT)
    err = refused(loaded, "decided_listed", date(2025, 6, 15), texts={"reasons": "r"})
    assert err.rule == "BJ-23" and "2025-06-20" in str(err)
    take(loaded, "decided_listed", LISTED_ON, texts={"reasons": "r"})
    err = refused(loaded, "repair_applied", date(2025, 9, 2), uploads=REPAIR, subject=SUBJECT)
    assert err.rule == "BJ-18" and "2025-09-03" in str(err)
    assert_chain_ok(loaded)


def test_bj16b_late_statement_refused_naming_the_last_day(loaded: Store) -> None:
    """BJ-16b/BJ-16d: after the 10 working days (ending 2025-06-24) the case is deemed listed
    and a statement is refused with the last day named."""
    take(loaded, "notice_served", NOTICE_ON, texts=NOTICE_TEXTS)
    s = case(loaded, date(2025, 6, 25)).status
    assert s is not None and (s.state, s.listed_on) == (CaseState.LISTED, date(2025, 6, 25))
    err = refused(
        loaded, "statement_received", date(2025, 6, 25), texts={"statement": "s"}, subject=SUBJECT
    )
    assert err.rule == "BJ-16b" and "2025-06-24" in str(err)


def late_tables() -> dict[str, list[dict[str, Any]]]:
    """base_tables() with P1 decided 2026-12-01, so its publicity runs into 2027."""
    tables = base_tables()
    tables["penalties"][0]["decided_on"] = date(2026, 12, 1)
    return tables


def test_period_notice_with_deadline_in_2027_needs_the_years_workdays(
    store: Store, tmp_path: Path
) -> None:
    """PERIOD: a notice served 2026-12-24 must state a deadline in 2027, which is not bundled:
    refused until the 2027 ``workdays`` are loaded; then the deadline is 2027-01-08
    (12-25, 12-28..12-31, then 01-04..01-08 with the invented 2027 calendar)."""
    day = date(2026, 12, 24)
    tables = late_tables()
    assert load(store, write_content(tmp_path / "a", tables), today=day).ok
    err = refused(store, "notice_served", day, texts=NOTICE_TEXTS)
    assert err.rule == "PERIOD" and "2027" in str(err) and "workdays" in str(err)
    assert err.fields == {}
    tables["workdays"] = [{"date": d, "kind": k} for d, k in calendar_2027_fixture().items()]
    assert load(store, write_content(tmp_path / "b", tables), today=day).ok
    e = take(store, "notice_served", day, texts=NOTICE_TEXTS)
    assert e.date == day
    s = case(store, day).status
    assert s is not None and s.next_deadline is not None
    assert (s.next_deadline.rule, s.next_deadline.date) == ("BJ-16b", date(2027, 1, 8))
    assert_chain_ok(store)


def test_period_imported_notice_then_statement_in_2027_without_calendar(
    store: Store, tmp_path: Path
) -> None:
    """PERIOD: a notice imported on 2026-12-24 (before 2027 was needed); a statement on
    2027-01-05 cannot be judged without the 2027 calendar: open_steps says PERIOD, record
    refuses with rule PERIOD; with the 2027 workdays loaded it is accepted."""
    tables = late_tables()
    notice = {"ref": "P1", "event": "notice_served", "date": date(2026, 12, 24), "note": None}
    tables["events"] = [notice]
    assert load(store, write_content(tmp_path / "a", tables), today=date(2026, 12, 28)).ok
    day = date(2027, 1, 5)
    with store.read() as conn:
        found = case_actions.load(conn, "P1", day, PERIODS)
    assert found is not None and found.status is not None
    assert found.status.state is CaseState.NOTIFIED  # never deemed listed on a guess
    assert found.status.next_deadline is not None and found.status.next_deadline.date is None
    why = case_actions.open_steps(found, day, PERIODS, by_subject=True)
    assert "2027" in (why["statement_received"] or "")
    assert (why["statement_received"] or "").endswith("（PERIOD）")
    statement = {"statement": "s"}
    err = refused(store, "statement_received", day, texts=statement, subject=SUBJECT)
    assert err.rule == "PERIOD"
    tables["workdays"] = [{"date": d, "kind": k} for d, k in calendar_2027_fixture().items()]
    assert load(store, write_content(tmp_path / "b", tables), today=day).ok
    take(store, "statement_received", day, texts=statement, subject=SUBJECT)
    s = case(store, day).status
    assert s is not None and s.state is CaseState.STATEMENT_UNDER_REVIEW
    # BJ-16c: 01-06..01-08, 01-11..01-15, 01-18, 01-19: decide by 2027-01-19.
    assert s.next_deadline is not None and s.next_deadline.date == date(2027, 1, 19)
    assert_chain_ok(store)


def sections(doc: Any) -> dict[str, str]:
    return dict(doc.sections)


def test_bj16a_bj16c_bj17a_bj18_written_documents(loaded: Store) -> None:
    """BJ-16a notice (facts, reasons, basis, rights with the deadline, consequences), BJ-16c
    decision, BJ-17a answer (correction and receipt dates) and BJ-18 repair decision."""
    to_listed(loaded)
    objection = {"objection": "o"}
    take(loaded, "published_objection_received", OBJECTION_ON, texts=objection, subject=SUBJECT)
    upheld = {"answer": "经核查，异议成立", "correction": "类别更正为第二项"}
    take(loaded, "published_objection_upheld", UPHELD_ON, texts=upheld)
    take(loaded, "repair_applied", REPAIR_ON, uploads=REPAIR, subject=SUBJECT)
    take(loaded, "repair_approved", APPROVED_ON, texts={"reasons": "整改到位"})
    found = case(loaded, APPROVED_ON)
    seq = {e.event: e.seq for e in found.entries}

    notice = document_of(found, seq["notice_served"], NAME, PERIODS)
    assert notice is not None and notice.title == "列入不良信息告知书"
    assert [t for t, _ in notice.sections] == ["事实", "理由", "依据", "权利", "后果"]
    text = sections(notice)
    assert text["理由"] == NOTICE_TEXTS["reasons"] and text["依据"] == NOTICE_TEXTS["basis"]
    assert "向服务对象收取费用" in text["事实"] and "2025年6月2日" in text["事实"]
    assert "10 个工作日" in text["权利"] and "截至 2025年6月24日" in text["权利"]
    assert "2025年9月3日" in text["后果"] and "2026年6月2日" in text["后果"]
    assert (notice.addressee, notice.dated, notice.authority) == (NAME, NOTICE_ON, "东城区民政局")
    assert notice.number == f"P1-{seq['notice_served']:06d}"

    decision = document_of(found, seq["decided_listed"], NAME, PERIODS)
    assert decision is not None and decision.title == "列入不良信息决定书"
    text = sections(decision)
    assert list(text) == ["事实", "核查意见", "决定", "权利"]
    assert text["核查意见"] == "陈述申辩理由不成立" and "2026年6月2日" in text["决定"]
    assert "7 个工作日" in text["权利"] and "2025年9月3日" in text["权利"]

    answer = document_of(found, seq["published_objection_upheld"], NAME, PERIODS)
    assert answer is not None and answer.title == "异议处理答复书"
    text = sections(answer)
    assert "2025年9月26日" in text["异议"] and text["核查结论"] == upheld["answer"]
    assert text["处理结果"] == "异议成立，已于 2025年10月10日 更正：类别更正为第二项"

    repaired = document_of(found, seq["repair_approved"], NAME, PERIODS)
    assert repaired is not None and repaired.title == "信用修复决定书"
    assert sections(repaired)["决定"] == "准予信用修复，自 2025年11月20日 起停止公开上述不良信息。"
    assert repaired.dated == APPROVED_ON

    # Steps without a written document of their own produce none.
    assert document_of(found, seq["statement_received"], NAME, PERIODS) is None
    assert document_of(found, seq["repair_applied"], NAME, PERIODS) is None


def test_bj16b_bj17a_bj18_open_steps_for_the_subject(loaded: Store) -> None:
    """BJ-16b/BJ-17a/BJ-18: the subject sees only their own steps, each closed one with why."""
    to_listed(loaded)
    found = case(loaded, date(2025, 7, 2))
    steps = case_actions.open_steps(found, date(2025, 7, 2), PERIODS, by_subject=True)
    assert set(steps) == {"statement_received", "published_objection_received", "repair_applied"}
    assert steps["published_objection_received"] is None
    assert (steps["statement_received"] or "").endswith("（BJ-16b）")
    assert "2025-09-03" in (steps["repair_applied"] or "")
    assert (steps["repair_applied"] or "").endswith("（BJ-18）")
    later = case(loaded, REPAIR_ON)
    steps = case_actions.open_steps(later, REPAIR_ON, PERIODS, by_subject=True)
    assert steps["repair_applied"] is None
    staff = case_actions.open_steps(later, REPAIR_ON, PERIODS, by_subject=False)
    assert len(staff) == 11 and staff["repair_approved"] is not None
    assert staff["decided_not_listed"] is not None
