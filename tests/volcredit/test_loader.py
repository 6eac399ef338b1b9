"""``volcredit load``: validate everything, report every problem, replace atomically."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.builders import (
    MINOR_ID,
    ORG_A,
    base_tables,
    id_number,
    load,
    row_count,
    write_content,
    write_csv,
)
from volcredit.problems import Severity
from volcredit.store import history
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables


def errors(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in result.log.kept if p.severity is Severity.ERROR]


def test_base_content_loads_on_both_backends(store: Store, tmp_path: Path) -> None:
    result = load(store, write_content(tmp_path / "c", base_tables()))
    assert result.ok, errors(result)
    assert row_count(store, "volunteers") == 3
    assert row_count(store, "service_records") == 2
    with store.read() as conn:
        hours = conn.execute(select(content_tables["service_records"].c.hours)).scalars().all()
    assert sorted(hours) == [2, 3.5]


@pytest.mark.parametrize(
    "column",
    [
        "religion",
        "blood_type",
        "宗教信仰",
        "血型",
        "指纹",
        "Medical History",
        "基因检测",
        "disease",
    ],
)
def test_bj6_forbidden_column_refuses_whole_load(store: Store, tmp_path: Path, column: str) -> None:
    """BJ-6: a forbidden column (English or Chinese) refuses the whole load, naming file+column."""
    good = load(store, write_content(tmp_path / "good", base_tables()))
    assert good.ok
    tables = base_tables()
    tables["volunteers"][0][column] = "x"
    tables["volunteers"].append({**tables["volunteers"][1], "volunteer_no": "V0099"})
    result = load(store, write_content(tmp_path / "bad", tables))
    assert not result.ok
    bj6 = [p for p in result.log.kept if p.rule == "BJ-6"]
    assert [p.field for p in bj6] == [column]
    assert bj6[0].file.endswith("volunteers.yaml")
    assert row_count(store, "volunteers") == 3  # nothing of the bad load, V0099 absent


def test_bj6_forbidden_column_in_csv_names_header_line(store: Store, tmp_path: Path) -> None:
    """BJ-6: the CSV header is refused before any row is read."""
    tables = base_tables()
    for row in tables["service_records"]:
        row["疾病史"] = "无"
    result = load(store, write_content(tmp_path / "c", tables))
    bj6 = [p for p in result.log.kept if p.rule == "BJ-6"]
    assert len(bj6) == 1
    assert (Path(bj6[0].file).name, bj6[0].line, bj6[0].field) == (
        "service_records.csv",
        1,
        "疾病史",
    )
    assert row_count(store, "service_records") == 0


def test_unknown_column_is_refused(store: Store, tmp_path: Path) -> None:
    tables = base_tables()
    tables["organisations"][0]["wechat"] = "abc"
    result = load(store, write_content(tmp_path / "c", tables))
    assert not result.ok
    assert any(p.field == "wechat" and "未知的列" in p.message for p in result.log.kept)


def test_bj7_bad_id_checksum_and_uscc_are_refused(store: Store, tmp_path: Path) -> None:
    """BJ-7: ID numbers (stdnum.cn.ric) and USCCs (stdnum.cn.uscc) are checksum-validated."""
    tables = base_tables()
    good_id = tables["volunteers"][0]["id_number"]
    bad_digit = "0" if good_id[-1] != "0" else "1"
    tables["volunteers"][0]["id_number"] = good_id[:-1] + bad_digit
    tables["organisations"][1]["uscc"] = tables["organisations"][1]["uscc"][:-1] + "0"
    result = load(store, write_content(tmp_path / "c", tables))
    found = {(Path(p.file).name, p.field, p.rule) for p in result.log.kept}
    assert ("volunteers.yaml", "id_number", "BJ-7") in found
    assert ("organisations.yaml", "uscc", "BJ-7") in found


def test_bj7_area_code_assigned_after_birth_is_accepted_unknown_area_refused(
    store: Store, tmp_path: Path
) -> None:
    """BJ-7: 渝中区 500103 dates from 1997; a person born in 1990 may still carry it. An area
    code that never existed is refused, checksum-valid or not."""
    tables = base_tables()
    tables["volunteers"][1]["id_number"] = id_number("500103", date(1990, 3, 15), 123)
    assert load(store, write_content(tmp_path / "ok", tables)).ok
    tables["volunteers"][1]["id_number"] = id_number("990101", date(1990, 3, 15), 123)
    result = load(store, write_content(tmp_path / "bad", tables))
    assert [(p.field, p.rule) for p in result.log.kept] == [("id_number", "BJ-7")]


def test_bj7_birth_date_must_match_id_number(store: Store, tmp_path: Path) -> None:
    tables = base_tables()
    tables["volunteers"][0]["birth_date"] = date(1991, 1, 1)
    result = load(store, write_content(tmp_path / "c", tables))
    assert any(p.field == "birth_date" and p.rule == "BJ-7" for p in result.log.kept)


@pytest.mark.parametrize(
    ("table", "row"),
    [
        (
            "honours",
            {
                "honour_id": "H9",
                "subject_kind": "person",
                "subject": "V0003",
                "title": "优秀小志愿者",
                "kind": "commendation",
                "authority": "渝中区民政局",
                "awarded_on": date(2025, 6, 1),
            },
        ),
        (
            "penalties",
            {
                "case_id": "P9",
                "subject_kind": "person",
                "subject": "V0003",
                "category": 5,
                "facts": "伪造服务记录",
                "decision_no": "渝民罚〔2025〕9号",
                "authority": "渝中区民政局",
                "decided_on": date(2025, 7, 1),
                "procedure": "general",
                "severity": "general",
            },
        ),
        (
            "other_info",
            {
                "subject_kind": "person",
                "subject": "V0003",
                "description": "自愿提供",
                "provided_on": date(2025, 7, 1),
            },
        ),
    ],
)
def test_bj3_credit_information_about_a_minor_is_refused(
    store: Store, tmp_path: Path, table: str, row: dict
) -> None:
    """BJ-3: credit information about a person under 18 on the date of the fact is refused."""
    tables = base_tables()
    tables.setdefault(table, []).append(row)
    result = load(store, write_content(tmp_path / "c", tables))
    bj3 = [p for p in result.log.kept if p.rule == "BJ-3"]
    assert len(bj3) == 1 and bj3[0].field == "subject"
    assert Path(bj3[0].file).name == f"{table}.yaml"
    assert MINOR_ID[6:10] == "2010"


def test_bj3_fact_after_18th_birthday_is_accepted(store: Store, tmp_path: Path) -> None:
    """BJ-3: the age counts on the date of the fact, so the day of the 18th birthday is fine."""
    tables = base_tables()
    born = date(2008, 3, 1)
    tables["volunteers"].append(
        {
            "volunteer_no": "V0004",
            "name": "郑一鸣",
            "id_type": "resident_id",
            "id_number": id_number("430102", born),
            "region": "430102",
            "registered_on": date(2025, 1, 1),
        }
    )
    honour = {
        "honour_id": "H4",
        "subject_kind": "person",
        "subject": "V0004",
        "title": "优秀志愿者",
        "kind": "commendation",
        "authority": "芙蓉区民政局",
        "awarded_on": date(2026, 3, 1),
    }
    tables["honours"].append(honour)
    assert load(store, write_content(tmp_path / "ok", tables)).ok
    tables["honours"][-1] = {**honour, "awarded_on": date(2026, 2, 28)}
    assert not load(store, write_content(tmp_path / "young", tables)).ok


@pytest.mark.parametrize(
    ("field", "value"), [("procedure", "simplified"), ("category", 6), ("category", 0)]
)
def test_bj9_only_general_procedure_in_five_categories(
    store: Store, tmp_path: Path, field: str, value: object
) -> None:
    """BJ-9: simplified-procedure penalties and categories outside 1–5 are refused as bad info."""
    tables = base_tables()
    tables["penalties"][0][field] = value
    result = load(store, write_content(tmp_path / "c", tables))
    assert [(p.field, p.rule) for p in result.log.kept] == [(field, "BJ-9")]


@pytest.mark.parametrize("hours", ["0", "-1", "abc", "25", "1.005"])
def test_cq9_hours_must_be_positive_and_sane(store: Store, tmp_path: Path, hours: str) -> None:
    """CQ-9: hours > 0, at most 24 in a record, in hundredths at most."""
    tables = base_tables()
    tables["service_records"][0]["hours"] = hours
    result = load(store, write_content(tmp_path / "c", tables))
    problems = [(Path(p.file).name, p.line, p.field, p.rule) for p in result.log.kept]
    assert problems == [("service_records.csv", 2, "hours", "CQ-9")]


def test_cq9_one_volunteer_one_date_at_most_24_hours(store: Store, tmp_path: Path) -> None:
    """CQ-9: the hours of one volunteer on one date add up to at most 24."""
    tables = base_tables()
    first = tables["service_records"][0]
    tables["service_records"] += [
        {**first, "record_id": "R3", "hours": "12"},
        {**first, "record_id": "R4", "hours": "9"},
    ]
    result = load(store, write_content(tmp_path / "c", tables))
    flagged = sorted(p.line for p in result.log.kept if p.rule == "CQ-9")
    assert flagged == [2, 4, 5]  # the three records of V0001 on 2025-09-01 (24.5 hours)
    tables["service_records"][-1]["hours"] = "8.5"  # exactly 24
    assert load(store, write_content(tmp_path / "ok", tables)).ok


def test_hn2a_late_record_is_flagged_not_refused(store: Store, tmp_path: Path) -> None:
    """HN-2a: entered more than 10 working days after the activity: loaded, flagged, reported.

    2025-09-26 (Fri): the 10th working day after is 2025-10-16, counting 2025-09-28 (Sun) and
    2025-10-11 (Sat) as 调休 working days and skipping the 10-01..10-08 National Day holiday;
    for 2025-09-25 it is 2025-10-15, so an entry on 10-16 is late.
    """
    tables = base_tables()
    first = tables["service_records"][0]
    tables["service_records"] = [
        {**first, "record_id": "ON", "date": date(2025, 9, 26), "recorded_on": date(2025, 10, 16)},
        {
            **first,
            "record_id": "LATE",
            "date": date(2025, 9, 25),
            "recorded_on": date(2025, 10, 16),
        },
    ]
    result = load(store, write_content(tmp_path / "c", tables))
    assert result.ok
    warnings = [p for p in result.log.kept if p.rule == "HN-2a"]
    assert [(p.line, p.field, p.severity) for p in warnings] == [
        (3, "recorded_on", Severity.WARNING)
    ]
    records = content_tables["service_records"]
    with store.read() as conn:
        flags = dict(conn.execute(select(records.c.record_id, records.c.late_entry)).all())
    assert flags == {"ON": False, "LATE": True}


@pytest.mark.parametrize(
    ("table", "index", "field", "value", "rule"),
    [
        ("honours", 0, "kind", "medal", ""),  # BJ-8: only the listed kinds of good info
        ("service_records", 0, "attitude", 6, "CQ-10"),  # CQ-10: evaluation 1–5
        (
            "service_records",
            0,
            "recorded_on",
            date(2025, 8, 31),
            "CQ-8",
        ),  # recorded before the date
        ("complaints", 0, "closed_on", date(2025, 1, 1), "CQ-13"),  # closed before received
        ("organisations", 0, "identification_removed_on", date(2023, 1, 1), "HN-1c"),
    ],
)
def test_bj8_cq8_cq10_cq13_hn1c_row_rules(
    store: Store, tmp_path: Path, table: str, index: int, field: str, value: object, rule: str
) -> None:
    """BJ-8 kinds of good info, CQ-8/CQ-10 record and evaluation, CQ-13 complaints, HN-1c."""
    tables = base_tables()
    tables["complaints"] = [
        {
            "complaint_id": "C1",
            "subject_kind": "person",
            "subject": "V0001",
            "received_on": date(2025, 3, 1),
            "summary": "迟到",
        }
    ]
    assert load(store, write_content(tmp_path / "ok", tables)).ok
    tables[table][index][field] = value
    result = load(store, write_content(tmp_path / "bad", tables))
    assert [(p.field, p.rule) for p in result.log.kept] == [(field, rule)]


def test_dangling_references_and_duplicate_keys_are_refused(store: Store, tmp_path: Path) -> None:
    tables = base_tables()
    tables["service_records"][1]["volunteer_no"] = "V4040"
    tables["honours"][1]["subject"] = "V0001"  # person id used as an organisation
    tables["volunteers"].append(dict(tables["volunteers"][0]))
    result = load(store, write_content(tmp_path / "c", tables))
    found = {(Path(p.file).name, p.line, p.field) for p in result.log.kept}
    assert ("service_records.csv", 3, "volunteer_no") in found
    assert any(name == "honours.yaml" and field == "subject" for name, _, field in found)
    dup = [p for p in result.log.kept if "重复" in p.message]
    assert len(dup) == 1 and Path(dup[0].file).name == "volunteers.yaml"


def test_every_problem_of_a_run_is_reported(store: Store, tmp_path: Path) -> None:
    """All problems in all files, not just the first, each naming file, line and field."""
    tables = base_tables()
    tables["regions"][1]["level"] = "district"
    tables["volunteers"][1]["registered_on"] = "2021-13-01"
    tables["service_records"][0]["punctuality"] = 9
    tables["penalties"][0]["procedure"] = "simplified"
    result = load(store, write_content(tmp_path / "c", tables))
    got = {(Path(p.file).name, p.field) for p in result.log.kept if p.severity is Severity.ERROR}
    assert got == {
        ("regions.yaml", "level"),
        ("volunteers.yaml", "registered_on"),
        ("service_records.csv", "punctuality"),
        ("penalties.yaml", "procedure"),
    }
    line = next(p.line for p in result.log.kept if p.field == "registered_on")
    text = (tmp_path / "c/data/volunteers.yaml").read_text(encoding="utf-8").splitlines()
    assert text[line - 1].strip().startswith("registered_on")


def test_event_misfits_are_refused(store: Store, tmp_path: Path) -> None:
    """BJ-16c: no decision before a notice; BJ-18: no repair before the minimum period."""
    tables = base_tables()
    tables["penalties"].append({**tables["penalties"][0], "case_id": "P2"})
    tables["events"] = [
        {"ref": "P1", "event": "decided_listed", "date": date(2025, 7, 1), "note": None},
        {"ref": "P2", "event": "notice_served", "date": date(2025, 6, 3), "note": None},
        {"ref": "P2", "event": "repair_applied", "date": date(2025, 8, 1), "note": None},
    ]
    result = load(store, write_content(tmp_path / "c", tables))
    misfits = sorted((p.line, p.rule) for p in result.log.kept)
    assert [rule for _, rule in misfits] == ["BJ-16c", "BJ-18"]


def test_failed_load_leaves_previous_data_untouched(store: Store, tmp_path: Path) -> None:
    first = base_tables()
    assert load(store, write_content(tmp_path / "a", first)).ok
    with store.read() as conn:
        before = [tuple(r) for r in conn.execute(select(content_tables["volunteers"]))]
        head = history.verify(conn).head
    second = base_tables()
    second["volunteers"] = second["volunteers"][:1]
    second["service_records"] = second["service_records"][:1]
    second["penalties"][0]["procedure"] = "simplified"
    assert not load(store, write_content(tmp_path / "b", second)).ok
    with store.read() as conn:
        after = [tuple(r) for r in conn.execute(select(content_tables["volunteers"]))]
        assert history.verify(conn).head == head
    assert after == before


def test_reload_replaces_data_and_keeps_history(store: Store, tmp_path: Path) -> None:
    """A second load replaces the content; imported events are appended once, never twice."""
    tables = base_tables()
    tables["events"] = [
        {"ref": "P1", "event": "notice_served", "date": date(2025, 6, 3), "note": "挂号信"}
    ]
    assert load(store, write_content(tmp_path / "a", tables)).ok
    tables["volunteers"] = tables["volunteers"][:2]
    tables["service_records"] = tables["service_records"][:1]
    result = load(store, write_content(tmp_path / "b", tables))
    assert result.ok and result.new_events == 0
    assert row_count(store, "volunteers") == 2
    with store.read() as conn:
        kinds = [e.event for e in history.entries(conn)]
        assert history.verify(conn).ok
    assert kinds == ["notice_served", "content_loaded", "content_loaded"]


def test_csv_quirks_are_named(store: Store, tmp_path: Path) -> None:
    root = write_content(tmp_path / "c", base_tables())
    path = root / "data/service_records.csv"
    path.write_text(path.read_text(encoding="utf-8") + "R9,V0001\n", encoding="utf-8")
    result = load(store, root)
    assert any(p.line == 4 and "列" in p.message for p in result.log.kept)
    write_csv(path, [{"record_id": "R1"}])
    result = load(store, root)
    missing = {p.field for p in result.log.kept if "缺少必填的列" in p.message}
    assert {"volunteer_no", "hours", "date"} <= missing
    assert ORG_A


def test_progress_bar_names_each_file_on_a_terminal(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import datetime

    from volcredit.importer.loader import load_content
    from volcredit.settings import PublicityPeriods

    root = write_content(tmp_path / "c", base_tables())
    result = load_content(
        store,
        root,
        today=date(2026, 11, 21),
        recorded_at=datetime(2026, 11, 21),
        actor="test",
        periods=PublicityPeriods(),
        progress=True,
    )
    assert result.ok
    err = capsys.readouterr().err
    assert "service_records.csv" in err and "行" in err


@pytest.mark.parametrize(
    ("table", "row", "missing"),
    [
        # CQ-11: a training record holds topic, content, date, place, class hours, contact person
        (
            "trainings",
            {
                "volunteer_no": "V0001",
                "organisation": ORG_A,
                "content": "心肺复苏",
                "date": date(2025, 5, 1),
                "class_hours": "2",
            },
            "topic",
        ),
        # CQ-12: an honour carries its date and its name
        (
            "honours",
            {
                "honour_id": "H7",
                "subject_kind": "person",
                "subject": "V0001",
                "kind": "reward",
                "authority": "东城区民政局",
                "awarded_on": date(2025, 5, 1),
            },
            "title",
        ),
        # BJ-10: other info is what the subject provides, with the date it was provided
        (
            "other_info",
            {"subject_kind": "person", "subject": "V0001", "description": "献血证明"},
            "provided_on",
        ),
    ],
)
def test_cq11_cq12_bj10_required_fields(
    store: Store, tmp_path: Path, table: str, row: dict, missing: str
) -> None:
    tables = base_tables()
    tables[table] = [{**row, missing: None}]
    result = load(store, write_content(tmp_path / "c", tables, csv_tables=()))
    assert [(p.field, p.message) for p in result.log.kept] == [(missing, "必填字段为空")]
    tables[table] = [{**row, missing: date(2025, 5, 2) if missing.endswith("_on") else "急救培训"}]
    assert load(store, write_content(tmp_path / "ok", tables, csv_tables=())).ok
