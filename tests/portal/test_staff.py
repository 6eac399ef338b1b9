"""Staff over HTTP: duty lookups with a reference, logged (BJ-23); the auditor's view (BJ-15);
the case list with deadlines; staff log in with a second factor."""

from __future__ import annotations

import pyotp
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from tests.portal.conftest import PASSWORD, World, c
from volcredit.store.portal_tables import access_log


def _log_count(world: World) -> int:
    with world.store.read() as conn:
        return conn.execute(select(func.count()).select_from(access_log)).scalar_one()


def test_lookup_needs_a_duty_reference_and_is_logged_bj_23(world: World) -> None:
    """BJ-23: no reference, no data; with one, the record and a log entry naming it."""
    clerk = world.staff("clerk", ("case_officer",))
    r = world.post(clerk, "/staff/lookup", {"kind": "person", "key": "V0001", "ref": ""})
    assert r.status_code == 400 and "案件编号" in r.text
    assert c("volunteers", "skills") not in r.text
    direct = clerk.get("/staff/subjects/person/V0001")
    assert direct.status_code == 403 and c("volunteers", "skills") not in direct.text
    assert _log_count(world) == 0
    r = world.post(clerk, "/staff/lookup", {"kind": "person", "key": "v0001", "ref": "P1 复核"})
    assert r.status_code == 303
    page = clerk.get(r.headers["location"])
    assert page.status_code == 200 and c("volunteers", "skills") in page.text
    assert "依据：P1 复核" in page.text
    with world.store.read() as conn:
        row = conn.execute(select(access_log)).one()
    assert (row.authority, row.reference, row.subject) == ("duty", "P1 复核", "V0001")
    subject_log = world.volunteer().get("/me/access-log").text
    assert "工作人员clerk（工作人员）" in subject_log and "P1 复核" in subject_log


def test_auditor_lists_queries_by_staff_and_by_subject_bj_15(world: World) -> None:
    """BJ-15: who saw this subject's data, when, under what authority."""
    clerk = world.staff("clerk", ("records_officer",))
    clerk.get("/staff/subjects/person/V0001?ref=CASE-0001")
    clerk.get("/staff/subjects/organisation/" + _org_a() + "?ref=CASE-0002")
    auditor = world.staff("audit", ("auditor",))
    summary = BeautifulSoup(auditor.get("/staff/audit").text, "html.parser").select_one("tbody")
    assert "工作人员clerk（工作人员）" in summary.get_text() and "2" in summary.get_text()
    by_subject = auditor.get("/staff/audit?kind=person&subject=V0001").text
    assert "CASE-0001" in by_subject and "CASE-0002" not in by_subject
    actor = summary.select_one("a")["href"]
    by_actor = auditor.get(actor).text
    assert "CASE-0001" in by_actor and "CASE-0002" in by_actor
    # The auditor reads the log but cannot look anyone up.
    assert auditor.get("/staff/subjects/person/V0001?ref=AUDIT-1").status_code == 403


def _org_a() -> str:
    from tests.builders import ORG_A

    return ORG_A


def test_case_list_shows_state_and_deadline(world: World) -> None:
    """BJ-16–18: the case officer sees each case's state and next deadline."""
    page = world.staff("cases", ("case_officer",)).get("/staff/cases")
    row = BeautifulSoup(page.text, "html.parser").select_one("tbody tr")
    assert row is not None and "P1" in row.get_text()


def test_staff_need_the_second_factor_and_it_is_single_use(world: World) -> None:
    """ASVS 2.8: after the password, staff pages stay closed until a TOTP code; a code is
    accepted once."""
    secret = world.account("staff", "otpuser", "工作人员otp", ("case_officer",))
    cl = world.login("otpuser")
    assert cl.get("/staff").headers["location"].startswith("/login")
    code = pyotp.TOTP(secret).at(world.clock.now())
    assert (
        world.post(
            cl, "/login/totp", {"code": "000000" if code != "000000" else "111111"}
        ).status_code
        == 400
    )
    assert world.post(cl, "/login/totp", {"code": code}).status_code == 303
    assert cl.get("/staff").status_code == 200
    again = world.login("otpuser")
    assert world.post(again, "/login/totp", {"code": code}).status_code == 400


def test_subject_pages_refuse_staff_and_staff_pages_refuse_subjects(world: World) -> None:
    """BJ-14b, BJ-23: roles do not mix."""
    assert world.volunteer().get("/staff/cases").status_code == 403
    staff = world.staff("mixed", ("records_officer",))
    assert staff.get("/me").status_code == 403
    assert world.login("mixed", PASSWORD).get("/me").headers["location"] == "/login/totp"
