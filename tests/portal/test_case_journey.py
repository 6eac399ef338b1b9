"""A bad-info case run entirely online (BJ-16a–d, BJ-17a, BJ-18, PUB-4, PUB-6, PERIOD): staff and
the subject together over real HTTP, with the public site built from the same store before and
after every step, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pyotp
import pytest

from generator.build import build_site
from portal import accounts
from tests.builders import ORG_A, ORG_B, calendar_2027_fixture, load, write_content
from tests.portal.conftest import World, canary_tables, csrf_of, serve_world
from volcredit.settings import Settings
from volcredit.store import history
from volcredit.store.engine import Store

DECISION_NO = "东民罚〔2026〕9号"
STATEMENT = "金丝雀陈述申辩内容丙一"
OBJECTION = "金丝雀异议内容丙二"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% evidence\n"


def p2() -> dict:
    """A general-severity penalty on ORG_A: publicity at least to 2026-12-01, at most to
    2027-09-01 (PUB-4)."""
    return {
        "case_id": "P2",
        "subject_kind": "organisation",
        "subject": ORG_A,
        "category": 2,
        "facts": "组织志愿服务活动向服务对象收取费用",
        "decision_no": DECISION_NO,
        "authority": "东城区民政局",
        "decided_on": date(2026, 9, 1),
        "procedure": "general",
        "severity": "general",
    }


@pytest.fixture
def case_world(store: Store, tmp_path: Path) -> Iterator[World]:
    tables = canary_tables()
    tables["penalties"].append(p2())
    assert load(store, write_content(tmp_path / "content", tables)).ok
    yield from serve_world(store, tmp_path)


class People:
    """The case officer and the organisation, logged in afresh on each day the test moves to
    (sessions end after 30 idle minutes)."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.secret = world.account("staff", "officer", "工作人员officer", ("case_officer",))
        world.account("organisation", ORG_A, "东城区阳光志愿者协会")

    def on(self, day: date) -> tuple[httpx.Client, httpx.Client]:
        """Move the portal's clock to 09:00 Beijing time on ``day`` and log both in."""
        on(self.w, day)
        self.org = self.w.login(ORG_A)
        self.officer = self.w.login("officer")
        code = pyotp.TOTP(self.secret).at(self.w.clock.now())
        assert self.w.post(self.officer, "/login/totp", {"code": code}).status_code == 303
        return self.officer, self.org


def on(world: World, day: date) -> None:
    """Move the portal's clock to 09:00 Beijing time on ``day``."""
    world.clock.advance(datetime(day.year, day.month, day.day, 1) - world.clock.now())


def post(world: World, cl: httpx.Client, path: str, data: dict, files: list | None = None):
    """POST a multipart form as the page's form would (with the CSRF token)."""
    token = csrf_of(cl)
    return cl.post(path, data={"csrftoken": token, **data}, files=files or [("none", ("", b""))])


def site(world: World, tmp_path: Path, day: date) -> str:
    """Build the public site for ``day`` from the store and return its disclosure pages' text."""
    out = tmp_path / "site"
    result = build_site(world.store, out, day, Settings(signing_key=str(tmp_path / "site.key")))
    assert result.ok, result.leaks
    every = "".join(p.read_text("utf-8") for p in out.rglob("*.html"))
    for secret in (STATEMENT, OBJECTION):
        assert secret not in every  # PUB-1: filed texts never reach the site
    pages = ("disclosures/index.html", "announcements/notices/index.html")
    return "".join((out / p).read_text("utf-8") for p in pages)


def entry(html: str) -> str:
    """The disclosure entry of P2 on the page, or '' if it is not published."""
    found = re.search(r'<div class="vc-entry" id="P2">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def test_case_from_notice_to_repair_in_the_portal_bj_16_bj_17a_bj_18(
    case_world: World, tmp_path: Path
) -> None:
    w = case_world
    people = People(w)
    officer, org = people.on(date(2026, 11, 23))  # a Monday
    assert DECISION_NO not in site(w, tmp_path, date(2026, 11, 23))  # BJ-16d: not yet listed
    page = org.get("/me/cases/P2").text
    assert "待告知" in page and "现在不能办理" in page

    # BJ-16a: a written notice needs its reasons and basis; then the document states the deadline.
    r = post(w, officer, "/staff/cases/P2/steps/notice_served", {"reasons": "", "basis": "条例"})
    assert r.status_code == 400 and "请填写理由" in r.text
    r = post(
        w,
        officer,
        "/staff/cases/P2/steps/notice_served",
        {"reasons": "经查证属实", "basis": "《北京市志愿服务信用信息管理办法》"},
    )
    assert r.status_code == 303, r.text
    # BJ-16b: 10 working days from 2026-11-23: 11-24..27, 11-30..12-04, 12-07.
    page = org.get("/me/cases/P2").text
    assert "2026-12-07" in page and "陈述申辩期限" in page
    seq = re.search(r"/me/cases/P2/documents/(\d+)\"", page).group(1)
    notice = org.get(f"/me/cases/P2/documents/{seq}").text
    for part in ("列入不良信息告知书", "事实", "理由", "依据", "权利", "后果", "2026年12月7日"):
        assert part in notice, part
    pdf = org.get(f"/me/cases/P2/documents/{seq}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert DECISION_NO not in site(w, tmp_path, date(2026, 11, 23))

    # BJ-16b: the subject files a statement with evidence before the deadline.
    officer, org = people.on(date(2026, 11, 25))
    r = post(
        w,
        org,
        "/me/cases/P2/steps/statement_received",
        {"statement": STATEMENT},
        [("evidence", ("收据.png", PNG, "image/png"))],
    )
    assert r.status_code == 303, r.text
    staff_page = officer.get("/staff/cases/P2").text
    # BJ-16c: verification within 10 working days: 11-26, 11-27, 11-30..12-04, 12-07..12-09.
    assert "2026-12-09" in staff_page and "核查并作出决定" in staff_page
    assert STATEMENT in staff_page
    link = re.search(r'href="(/staff/cases/P2/files/[0-9a-f]+)"', staff_page).group(1)
    assert officer.get(link).content == PNG
    assert org.get(link.replace("/staff/", "/me/")).content == PNG
    assert DECISION_NO not in site(w, tmp_path, date(2026, 11, 25))  # under verification

    # BJ-16c: the decision to list, with its written decision; the site lists it next build.
    officer, org = people.on(date(2026, 11, 30))
    r = post(w, officer, "/staff/cases/P2/steps/decided_listed", {"reasons": "申辩理由不成立"})
    assert r.status_code == 303
    listed = entry(site(w, tmp_path, date(2026, 11, 30)))
    assert DECISION_NO in listed and "异议处理中" not in listed
    # BJ-18: repair only after the minimum publicity period (to 2026-12-01).
    page = org.get("/me/cases/P2").text
    assert "自 2026-12-02 起才能申请信用修复" in page
    files = [
        ("commitment", ("承诺书.pdf", PDF, "application/pdf")),
        ("rectification", ("整改.pdf", PDF, "application/pdf")),
        ("credit_report", ("报告.pdf", PDF, "application/pdf")),
    ]
    r = post(w, org, "/me/cases/P2/steps/repair_applied", {}, files)
    assert r.status_code == 400 and "2026-12-02" in r.text

    # BJ-17a / PUB-6: an objection to the published entry marks it on the next build.
    officer, org = people.on(date(2026, 12, 1))
    r = post(w, org, "/me/cases/P2/steps/published_objection_received", {"objection": OBJECTION})
    assert r.status_code == 303
    assert "异议处理中" in entry(site(w, tmp_path, date(2026, 12, 1)))
    # 7 working days: 12-02..04, 12-07..10.
    assert "2026-12-10" in officer.get("/staff/cases/P2").text
    officer, org = people.on(date(2026, 12, 3))
    r = post(
        w,
        officer,
        "/staff/cases/P2/steps/published_objection_upheld",
        {"answer": "异议成立", "correction": "更正违法事实的表述"},
    )
    assert r.status_code == 303
    corrected = entry(site(w, tmp_path, date(2026, 12, 3)))
    assert "2026-12-03" in corrected and "异议处理中" not in corrected

    # BJ-18: the three materials are required; approval ends publication at the next build.
    officer, org = people.on(date(2026, 12, 4))
    r = post(w, org, "/me/cases/P2/steps/repair_applied", {}, files[:2])
    assert r.status_code == 400 and "请上传信用报告" in r.text
    r = post(w, org, "/me/cases/P2/steps/repair_applied", {}, files)
    assert r.status_code == 303, r.text
    assert DECISION_NO in entry(site(w, tmp_path, date(2026, 12, 4)))
    officer, org = people.on(date(2026, 12, 7))
    r = post(w, officer, "/staff/cases/P2/steps/repair_approved", {"reasons": "整改到位"})
    assert r.status_code == 303
    assert "已信用修复" in org.get("/me/cases/P2").text
    assert entry(site(w, tmp_path, date(2026, 12, 7))) == ""

    # BJ-23: every step is an attributable entry in a chain that verifies.
    with w.store.read() as conn:
        steps = [e for e in history.entries(conn, "P2")]
        assert history.verify(conn).ok
    assert [e.event for e in steps] == [
        "notice_served",
        "statement_received",
        "decided_listed",
        "published_objection_received",
        "published_objection_upheld",
        "repair_applied",
        "repair_approved",
    ]
    with w.store.read() as conn:
        officer_id = accounts.by_login(conn, "OFFICER").account_id
        org_id = accounts.by_login(conn, ORG_A).account_id
    assert [e.actor for e in steps[:2]] == [f"portal:{officer_id}", f"portal:{org_id}"]
    assert {e.source for e in steps} == {"portal"}
    digests = {f["sha256"] for e in steps for f in (e.payload or {}).get("files", [])}
    assert hashlib.sha256(PNG).hexdigest() in digests


def test_statement_after_the_deadline_says_why_not_bj_16b(case_world: World) -> None:
    w = case_world
    people = People(w)
    officer, org = people.on(date(2026, 11, 23))
    reasons = {"reasons": "经查证属实", "basis": "办法第十条"}
    assert post(w, officer, "/staff/cases/P2/steps/notice_served", reasons).status_code == 303
    officer, org = people.on(
        date(2026, 12, 8)
    )  # the period ended on 2026-12-07: deemed no objection (BJ-16d)
    page = org.get("/me/cases/P2").text
    assert "陈述申辩期限已于 2026-12-07 届满" in page
    r = post(w, org, "/me/cases/P2/steps/statement_received", {"statement": "迟到的申辩"})
    assert r.status_code == 400 and "2026-12-07" in r.text


def test_notice_by_announcement_ends_on_the_next_working_day_period_bj_16b(
    case_world: World, tmp_path: Path
) -> None:
    """A 30-day announcement from 2026-09-01 would end on 2026-10-01, National Day: the period
    ends on 2026-10-08, the first working day after the holiday (PERIOD)."""
    w = case_world
    people = People(w)
    officer, _ = people.on(date(2026, 9, 1))
    data = {"reasons": "无法通过登记的联系方式送达", "basis": "办法第十二条"}
    assert post(w, officer, "/staff/cases/P2/steps/notice_announced", data).status_code == 303
    notices = site(w, tmp_path, date(2026, 9, 2))
    assert "2026-10-08" in notices and "无法通过登记的联系方式送达" in notices
    assert "2026-10-08" in officer.get("/staff/cases/P2").text
    # Deemed no objection after the period: listed on 2026-10-09, no longer a notice.
    later = site(w, tmp_path, date(2026, 10, 9))
    assert DECISION_NO in entry(later) and "无法通过登记的联系方式送达" not in later


def test_deadline_in_a_year_without_calendar_is_an_error_until_loaded_period(
    case_world: World, store: Store, tmp_path: Path
) -> None:
    """A notice served on 2026-12-21 has its 10th working day in 2027, which the bundled
    calendar lacks: refused with the reason, then accepted once 2027's workdays are loaded."""
    w = case_world
    people = People(w)
    officer, _ = people.on(date(2026, 12, 21))
    data = {"reasons": "经查证属实", "basis": "办法第十条"}
    r = post(w, officer, "/staff/cases/P2/steps/notice_served", data)
    assert r.status_code == 400 and "2027" in r.text and "workdays" in r.text
    tables = canary_tables()
    tables["penalties"].append(p2())
    tables["workdays"] = [{"date": d, "kind": k} for d, k in calendar_2027_fixture().items()]
    assert load(store, write_content(tmp_path / "content", tables)).ok
    assert post(w, officer, "/staff/cases/P2/steps/notice_served", data).status_code == 303
    # 12-22..25, 12-28..31 (8); 2027-01-01..03 off; 01-04, 01-05 -> the 10th.
    assert "2027-01-05" in officer.get("/staff/cases/P2").text


def test_case_pages_are_the_subjects_own_and_staff_views_are_logged_bj_23(
    case_world: World,
) -> None:
    w = case_world
    other = w.organisation(ORG_B, "其他组织")
    auditor = w.staff("auditor1", ("auditor",))
    assert other.get("/me/cases/P2").status_code == 404
    r = post(w, other, "/me/cases/P2/steps/statement_received", {"statement": "冒名"})
    assert r.status_code == 404
    assert auditor.get("/staff/cases/P2").status_code == 200
    data = {"reasons": "经查证属实", "basis": "办法第十条"}
    assert post(w, auditor, "/staff/cases/P2/steps/notice_served", data).status_code == 403
    org = w.organisation()
    log = org.get("/me/access-log").text
    assert "P2" in log and "工作人员auditor1" in log
    with w.store.read() as conn:
        assert not list(history.entries(conn, "P2"))  # nothing was recorded
