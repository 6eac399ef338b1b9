"""``volcredit record-events`` and ``case-document`` over a real store (SQLite and PostgreSQL):
paper steps recorded in batch with the portal's checks, all or nothing, every problem named by
file, row and field (BJ-16, BJ-17b, BJ-18, BJ-23)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import exc, text

from tests.builders import base_tables, load, write_content
from tests.volcredit.test_cli import run
from volcredit.store import history
from volcredit.store.engine import open_store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def p2_store(store_url: str, tmp_path: Path) -> str:
    """P2: decided 2026-09-01, general severity; honours H1 (a person's) and H2 (an org's)."""
    tables = base_tables()
    tables["penalties"].append(
        {**tables["penalties"][0], "case_id": "P2", "decided_on": date(2026, 9, 1)}
    )
    store = open_store(store_url)
    try:
        assert load(store, write_content(tmp_path / "content", tables)).ok
    finally:
        store.dispose()
    return store_url


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ev.png").write_bytes(PNG)
    path = tmp_path / "steps.csv"
    path.write_text(text, encoding="utf-8")
    return path


def steps_of(url: str, ref: str) -> list[history.Entry]:
    store = open_store(url)
    try:
        with store.read() as conn:
            return list(history.entries(conn, ref))
    finally:
        store.dispose()


GOOD = """ref,event,date,reasons,basis,statement,evidence,note
P2,notice_served,2026-11-23,经查证属实,办法第十条,,,
P2,statement_received,2026-11-25,,,书面陈述申辩,ev.png,
H1,deletion_requested,2026-11-20,,,,,本人书面要求删除
"""


def test_record_events_appends_paper_steps_with_the_portals_checks_bj_16(
    p2_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "record-events",
        str(write(tmp_path, GOOD)),
        "--db",
        p2_store,
        "--today",
        "2026-11-26",
    )
    assert code == 0, err
    assert "已记录 3 个步骤" in out
    steps = steps_of(p2_store, "P2")
    assert [e.event for e in steps] == ["notice_served", "statement_received"]
    assert all(e.source == "cli" and e.actor.startswith("cli:") for e in steps)
    assert steps[1].payload["files"][0]["name"] == "ev.png"
    assert [e.event for e in steps_of(p2_store, "H1")] == ["deletion_requested"]
    code, out, _ = run(
        capsys, "cases", "--db", p2_store, "--today", "2026-11-26", "--format", "json"
    )
    p2 = {c["case_id"]: c for c in json.loads(out)["cases"]}["P2"]
    # BJ-16c: 10 working days from 2026-11-25: 11-26, 11-27, 11-30..12-04, 12-07..12-09.
    assert p2["state"] == "statement_under_review" and p2["next_deadline"]["date"] == "2026-12-09"


def test_record_events_is_all_or_nothing_and_names_file_row_field_bj_23(
    p2_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = """ref,event,date,reasons,basis,statement,evidence,note
P2,notice_served,2026-11-23,经查证属实,办法第十条,,,
P2,decided_listed,2026-11-24,,,,,
P2,statement_received,2026-13-01,,,陈述,,
P2,statement_received,2026-11-25,,,陈述,missing.png,
H2,deletion_requested,2026-11-20,,,,,
P2,repair_applied,2026-11-30,,,,,
"""
    path = write(tmp_path, bad)
    code, out, err = run(
        capsys, "record-events", str(path), "--db", p2_store, "--today", "2026-12-01"
    )
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert f"{path}:3: reasons: 请填写理由 [BJ-16c]" in lines
    assert any(line.startswith(f"{path}:4: date: 日期应为 YYYY-MM-DD") for line in lines)
    assert any(line.startswith(f"{path}:5: evidence: 无法读取文件 missing.png") for line in lines)
    assert f"{path}:6: event: 只有个人可以要求删除其良好信息 [BJ-17b]" in lines
    assert any(line.startswith(f"{path}:7: commitment: 请上传") for line in lines)
    assert lines[-1].endswith("未记录任何步骤。")
    assert steps_of(p2_store, "P2") == []  # the good first row was rolled back too


def test_record_events_refuses_a_future_date_and_a_late_repair_bj_18(
    p2_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    future = "ref,event,date,reasons,basis\nP2,notice_served,2026-12-01,理由,依据\n"
    path = write(tmp_path, future)
    code, _, err = run(
        capsys, "record-events", str(path), "--db", p2_store, "--today", "2026-11-30"
    )
    assert code == 1 and "晚于今天" in err


def test_case_document_writes_the_notice_as_pdf_bj_16a(
    p2_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert (
        run(capsys, "record-events", str(path), "--db", p2_store, "--today", "2026-11-26")[0] == 0
    )
    out_dir = tmp_path / "docs"
    code, _out, err = run(
        capsys,
        "case-document",
        "P2",
        "--out",
        str(out_dir),
        "--db",
        p2_store,
        "--today",
        "2026-11-26",
    )
    assert code == 0, err
    (pdf,) = out_dir.glob("*.pdf")  # the notice; a statement has no document
    # pypdf puts a NUL before each glyph of fpdf2's CID text, and spaces between CJK glyphs.
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(pdf).pages))
    assert "列入不良信息告知书" in text and "2026年12月7日" in text
    code, _, err = run(
        capsys,
        "case-document",
        "P9",
        "--out",
        str(out_dir),
        "--db",
        p2_store,
        "--today",
        "2026-11-26",
    )
    assert code == 1 and "P9" in err


def test_verify_history_finds_a_swapped_case_file_bj_23(
    p2_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files filed with a step are insert-only, and even with the guard removed a changed
    file no longer matches the SHA-256 its history entry holds."""
    path = write(tmp_path, GOOD)
    assert (
        run(capsys, "record-events", str(path), "--db", p2_store, "--today", "2026-11-26")[0] == 0
    )
    assert run(capsys, "verify-history", "--db", p2_store)[0] == 0
    store = open_store(p2_store)
    try:
        with pytest.raises(exc.DBAPIError, match="append-only"), store.write() as conn:
            conn.execute(text("UPDATE case_files SET content = :c"), {"c": b"%PDF-forged"})
        with store.write() as conn:
            if store.is_postgres:
                conn.execute(text("ALTER TABLE case_files DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER IF EXISTS case_files_no_update"))
            conn.execute(text("UPDATE case_files SET content = :c"), {"c": b"%PDF-forged"})
            if store.is_postgres:
                conn.execute(text("ALTER TABLE case_files ENABLE TRIGGER USER"))
    finally:
        store.dispose()
    code, _, err = run(capsys, "verify-history", "--db", p2_store)
    assert code == 1 and "案件材料" in err and "SHA-256 不符" in err
