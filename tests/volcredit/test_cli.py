"""The ``volcredit`` CLI over a real store: exit codes, one line per problem, JSON for tools."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.builders import base_tables, write_content
from volcredit.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    tables = base_tables()
    tables["events"] = [
        {"ref": "P1", "event": "notice_served", "date": date(2025, 6, 3), "note": None},
    ]
    tables["penalties"].append(
        {**tables["penalties"][0], "case_id": "P2", "decided_on": date(2026, 11, 2)}
    )
    tables["penalties"].append(
        {**tables["penalties"][0], "case_id": "P3", "decided_on": date(2026, 10, 9)}
    )
    tables["events"] += [
        {"ref": "P3", "event": "notice_served", "date": date(2026, 10, 10), "note": None},
        {"ref": "P3", "event": "statement_received", "date": date(2026, 10, 20), "note": None},
    ]
    code, out, err = run(
        capsys,
        "load",
        str(write_content(tmp_path / "c", tables)),
        "--db",
        store_url,
        "--today",
        "2026-11-21",
    )
    assert code == 0, err
    assert "已导入" in out
    return store_url


def test_cases_json_gives_state_deadline_and_overdue(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """BJ-16c: every case with its state, next deadline (date and rule) and overdue flag."""
    code, out, _ = run(capsys, "cases", "--db", loaded, "--today", "2026-11-21", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    by_id = {c["case_id"]: c for c in payload["cases"]}
    assert by_id["P1"]["state"] == "expired" and not by_id["P1"]["public"]
    assert by_id["P2"]["state"] == "awaiting_notice" and by_id["P2"]["next_deadline"] is None
    p3 = by_id["P3"]
    assert p3["state"] == "statement_under_review" and p3["overdue"] is True
    assert p3["next_deadline"] == {
        "date": "2026-11-03",
        "rule": "BJ-16c",
        "label": "核查并作出决定（10个工作日）",
        "error": None,
    }
    code, out, _ = run(capsys, "cases", "--db", loaded, "--today", "2025-07-01", "--format", "json")
    by_id = {c["case_id"]: c for c in json.loads(out)["cases"]}
    assert set(by_id) == {"P1"} and by_id["P1"]["state"] == "listed" and by_id["P1"]["public"]


def test_cases_text_and_overdue_filter(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cases", "--db", loaded, "--today", "2026-11-21", "--overdue")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(lines) == 1 and lines[0].startswith("- P3") and "已逾期" in lines[0]


def test_check_reports_overdue_and_identification(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-1a: a qualifying organisation not yet identified is reported; overdue cases too.
    HN-1d: the year's announcements not out after 30 June are errors until published."""
    code, out, _ = run(capsys, "check", "--db", loaded, "--today", "2026-11-21")
    assert code == 1 and "认定公告逾期未发布" in out and "[HN-1d]" in out
    code, out, _ = run(
        capsys, "announce", "--db", loaded, "--year", "2026", "--today", "2026-06-15"
    )
    assert code == 0 and "已发布 2026 年认定公告" in out
    code, out, _ = run(capsys, "check", "--db", loaded, "--today", "2026-11-21")
    assert code == 0
    assert "[BJ-16c]" in out
    assert "芙蓉区邻里互助中心" not in out  # its name has no keyword: not a direct candidate
    assert "0 个错误" in out


def test_verify_history_ok_then_detects_an_expected_head_mismatch(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """BJ-23: ``verify-history`` prints the head; a different recorded head fails."""
    code, out, _ = run(capsys, "verify-history", "--db", loaded)
    assert code == 0 and "历史记录完整" in out
    head = out.split("链头 ")[1].split()[0]
    assert run(capsys, "verify-history", "--db", loaded, "--expect-head", head)[0] == 0
    code, _, err = run(capsys, "verify-history", "--db", loaded, "--expect-head", "0" * 64)
    assert code == 1 and "BJ-23" in err


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda t: t["volunteers"][0].__setitem__("血型", "A"), "volunteers.yaml:"),
        (lambda t: t["penalties"][0].__setitem__("procedure", "simplified"), "procedure:"),
        (lambda t: t["organisations"][0].__setitem__("uscc", "511101010000000010"), "uscc:"),
        (lambda t: t["organisations"][0].__setitem__("fax", "1"), "fax:"),
    ],
)
def test_load_failure_exits_nonzero_naming_file_line_field_and_keeps_data(
    loaded: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change,
    needle: str,
) -> None:
    """BJ-6, BJ-7, BJ-9: a bad load exits 1 naming file:line field; the loaded data stays."""
    before = run(capsys, "cases", "--db", loaded, "--today", "2026-11-21", "--format", "json")[1]
    tables = base_tables()
    change(tables)
    code, _, err = run(capsys, "load", str(write_content(tmp_path / "bad", tables)), "--db", loaded)
    assert code == 1
    problem_lines = [line for line in err.splitlines() if needle in line]
    assert problem_lines, err
    assert all(".yaml:" in line for line in problem_lines)
    assert "原有的数据没有任何改动" in err
    after = run(capsys, "cases", "--db", loaded, "--today", "2026-11-21", "--format", "json")[1]
    assert after == before


def test_global_db_option_and_environment(
    loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "--db", loaded, "cases", "--today", "2026-11-21")
    assert code == 0 and "P3" in out
    monkeypatch.setenv("VOLCREDIT_DB", loaded)
    code, out, _ = run(capsys, "cases", "--today", "2026-11-21")
    assert code == 0 and "P3" in out


def test_bad_setting_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOLCREDIT_PUBLICITY_GENERAL_MIN_MONTHS", "24")
    code, _, err = run(capsys, "cases", "--db", "sqlite://")
    assert code == 2 and "设置错误" in err
