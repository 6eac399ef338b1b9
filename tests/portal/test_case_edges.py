"""Edges of the online case steps (BJ-16, BJ-17a, BJ-18, PUB-1, PUB-4): texts never cut silently,
odd file names, case IDs holding "/", a notice too late to list, and shared wording between a
public and a private text, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from generator.build import build_site
from tests.builders import ORG_A, load, write_content
from tests.portal.conftest import World, canary_tables, csrf_of, serve_world
from tests.portal.test_case_journey import PNG, People, case_world, p2, post
from volcredit import case_actions
from volcredit.settings import PublicityPeriods, Settings
from volcredit.store import history
from volcredit.store.engine import Store

__all__ = ["case_world"]  # the fixture, used by name


def test_a_long_statement_is_refused_beside_its_field_never_cut_bj_16b(case_world: World) -> None:
    """2,001 characters (CRLF line breaks count once, as the textarea counts them) is refused
    with the length named; 2,000 with line breaks is kept whole."""
    w = case_world
    people = People(w)
    officer, org = people.on(date(2026, 11, 23))
    data = {"reasons": "经查证属实", "basis": "办法第十条"}
    assert post(w, officer, "/staff/cases/P2/steps/notice_served", data).status_code == 303
    too_long = "\r\n".join(["申" * 99] * 20) + "尾巴"  # 20 * 99 + 19 + 2 = 2,001
    r = post(w, org, "/me/cases/P2/steps/statement_received", {"statement": too_long})
    assert r.status_code == 400 and "不能超过 2000 字" in r.text and 'id="e-statement' in r.text
    fits = "\r\n".join(["申" * 99] * 20) + "尾"  # 2,000
    r = post(w, org, "/me/cases/P2/steps/statement_received", {"statement": fits})
    assert r.status_code == 303
    with w.store.read() as conn:
        (entry,) = [e for e in history.entries(conn, "P2") if e.event == "statement_received"]
    assert entry.payload["texts"]["statement"].endswith("申\n" + "申" * 99 + "尾")


def test_control_characters_in_a_file_name_are_dropped_bj_16b(case_world: World) -> None:
    """A file name with NUL and a line break (which PostgreSQL would refuse) is kept without
    them, never a 500."""
    w = case_world
    people = People(w)
    officer, org = people.on(date(2026, 11, 23))
    data = {"reasons": "经查证属实", "basis": "办法第十条"}
    assert post(w, officer, "/staff/cases/P2/steps/notice_served", data).status_code == 303
    # Raw bytes: an HTTP client would percent-encode them, a hostile one does not.
    token, boundary = csrf_of(org), "vcboundary7"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="statement"\r\n\r\n陈述\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
        'filename="收\x00据\x07.png"\r\nContent-Type: image/png\r\n\r\n',
    ]
    body = "".join(parts).encode() + PNG + f"\r\n--{boundary}--\r\n".encode()
    r = org.post(
        "/me/cases/P2/steps/statement_received",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 303, r.text
    with w.store.read() as conn:
        (entry,) = [e for e in history.entries(conn, "P2") if e.event == "statement_received"]
    assert entry.payload["files"][0]["name"] == "收据.png"


def test_a_case_id_with_a_slash_is_worked_online_bj_16(store: Store, tmp_path: Path) -> None:
    tables = canary_tables()
    tables["penalties"].append({**p2(), "case_id": "DM/2026/9"})
    assert load(store, write_content(tmp_path / "content", tables)).ok
    for w in serve_world(store, tmp_path):
        people = People(w)
        officer, org = people.on(date(2026, 11, 23))
        data = {"reasons": "经查证属实", "basis": "办法第十条"}
        r = post(w, officer, "/staff/cases/DM/2026/9/steps/notice_served", data)
        assert r.status_code == 303, r.text
        page = org.get("/me/cases/DM/2026/9").text
        assert "2026-12-07" in page
        doc = next(p for p in page.split('"') if "/documents/" in p and not p.endswith(".pdf"))
        assert "列入不良信息告知书" in org.get(doc).text


def test_a_notice_too_late_to_list_is_refused_pub_4(case_world: World, tmp_path: Path) -> None:
    """P2's publicity ends at the latest on 2027-09-01 (1 year, PUB-4): a notice whose statement
    period would end after that is refused, since listing could never follow."""
    w = case_world
    people = People(w)
    officer, _ = people.on(date(2026, 11, 23))
    # Move the case's facts instead of the clock: the same case decided a year earlier.
    tables = canary_tables()
    tables["penalties"].append({**p2(), "decided_on": date(2025, 11, 30)})  # max to 2026-11-30
    assert load(w.store, write_content(tmp_path / "c2", tables)).ok
    data = {"reasons": "经查证属实", "basis": "办法第十条"}
    r = post(w, officer, "/staff/cases/P2/steps/notice_served", data)
    assert r.status_code == 400 and "最长公示期" in r.text and "PUB-4" in r.text


def test_the_same_wording_in_a_served_and_an_announced_notice_builds_pub_1(
    store: Store, tmp_path: Path
) -> None:
    """Standard wording used both in a private text (a served notice's reasons) and a public
    one (an announced notice's reasons) is published with the announcement: not a leak."""
    tables = canary_tables()
    tables["penalties"] += [p2(), {**p2(), "case_id": "P3", "subject": ORG_A}]
    assert load(store, write_content(tmp_path / "content", tables)).ok
    wording = {"reasons": "经查证违法事实清楚证据确凿", "basis": "办法第十条"}
    with store.write() as conn:
        for case_id, event in (("P2", "notice_served"), ("P3", "notice_announced")):
            case_actions.record(
                conn,
                case_id,
                event,
                today=date(2026, 11, 23),
                actor="test",
                source="cli",
                now=datetime(2026, 11, 23, 1),
                periods=PublicityPeriods(),
                texts=wording,
            )
    out = tmp_path / "site"
    result = build_site(store, out, date(2026, 11, 24), Settings(signing_key=str(tmp_path / "k")))
    assert result.ok, result.leaks
    assert wording["reasons"] in (out / "announcements/notices/index.html").read_text("utf-8")
