"""Written consent end to end over HTTP (BJ-14c, BJ-15, CQ-15)."""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup

from tests.portal.conftest import SECOND_ID, TODAY, World, c

FORM = {
    "recipient_kind": "person",
    "recipient_name": "陈景行",
    "recipient_id": SECOND_ID,
    "purpose": "应聘志愿服务岗位核实经历",
    "classes": ["service"],
    "expires_on": (TODAY + timedelta(days=30)).isoformat(),
}


def _errors(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    out = {}
    for box in soup.select(".vc-field--error"):
        target = box.select_one("input")
        name = target["name"] if target else "classes"
        out[str(name)] = box.select_one(".vc-error").get_text(strip=True)
    return out


def test_issue_redeem_view_revoke_bj_14c(world: World) -> None:
    """BJ-14c, BJ-15: issue, print (the code), the recipient redeems it and sees the consented
    class; the view is logged and shown to the subject; revocation stops the next view at once."""
    subject = world.volunteer("V0001", "林若溪")
    r = world.post(subject, "/me/consents", FORM)
    assert r.status_code == 303
    doc = subject.get(r.headers["location"])
    code = BeautifulSoup(doc.text, "html.parser").select_one(".vc-number").get_text(strip=True)
    assert len(code) == 14 and "服务记录、服务时长与星级" in doc.text and SECOND_ID not in doc.text

    recipient = world.volunteer("V0002", "陈景行")
    redeemed = world.post(recipient, "/consents/redeem", {"code": code.lower().replace("-", " ")})
    assert redeemed.status_code == 303
    view = recipient.get(redeemed.headers["location"])
    assert view.status_code == 200 and c("service_records", "content") in view.text
    assert c("volunteers", "skills") not in view.text  # basic info was not consented
    assert view.headers["cache-control"] == "no-store"

    log = subject.get("/me/access-log").text
    assert "陈景行（被授权人）" in log and "书面授权" in log
    assert "陈景行（被授权人）" in subject.get(r.headers["location"]).text

    assert world.post(subject, r.headers["location"] + "/revoke").status_code == 303
    again = recipient.get(redeemed.headers["location"])
    assert again.status_code == 403 and "撤回" in again.text
    assert c("service_records", "content") not in again.text


def test_consent_expires_at_end_of_its_last_day_bj_14c(world: World) -> None:
    """BJ-14c: valid through its expiry date, refused the day after."""
    subject = world.volunteer()
    form = {**FORM, "expires_on": (TODAY + timedelta(days=1)).isoformat()}
    location = world.post(subject, "/me/consents", form).headers["location"]
    consent_id = location.rsplit("/", 1)[1]
    world.clock.advance(timedelta(hours=12))  # still 2026-11-21 or 22 in Beijing
    recipient = world.volunteer("V0002", "陈景行")
    assert recipient.get(f"/consents/{consent_id}").status_code == 200
    world.clock.advance(timedelta(days=1, hours=12))  # 2026-11-23 in Beijing
    recipient = world.login("V0002")
    late = recipient.get(f"/consents/{consent_id}")
    assert late.status_code == 403 and "到期" in late.text


def test_only_the_named_recipient_can_redeem_bj_14c(world: World) -> None:
    """BJ-14c: a consent names its recipient; anyone else holding the code is refused."""
    subject = world.volunteer()
    location = world.post(subject, "/me/consents", FORM).headers["location"]
    code = BeautifulSoup(subject.get(location).text, "html.parser").select_one(".vc-number")
    stranger = world.organisation()
    r = world.post(stranger, "/consents/redeem", {"code": code.get_text(strip=True)})
    assert r.status_code == 403 and "不是授予您的" in r.text
    consent_id = location.rsplit("/", 1)[1]
    assert stranger.get(f"/consents/{consent_id}").status_code == 403


def test_form_errors_name_each_field_bj_14c(world: World) -> None:
    """BJ-14c: a consent needs a valid recipient, a purpose, classes and an expiry ≤ 90 days;
    each problem is shown beside its field and nothing is stored."""
    subject = world.volunteer()
    bad = {
        "recipient_kind": "person",
        "recipient_name": "",
        "recipient_id": SECOND_ID[:-1] + ("0" if SECOND_ID[-1] != "0" else "1"),
        "purpose": "",
        "expires_on": (TODAY + timedelta(days=91)).isoformat(),
    }
    r = world.post(subject, "/me/consents", bad)
    assert r.status_code == 400
    errors = _errors(r.text)
    assert set(errors) == {"recipient_name", "recipient_id", "purpose", "classes", "expires_on"}
    assert "90 天" in errors["expires_on"] and "校验位" in errors["recipient_id"]
    assert "已出具的授权" in r.text and "您还没有出具过授权" in r.text


def test_paper_consent_recorded_by_staff_works_the_same_bj_14c(world: World) -> None:
    """BJ-14c: staff record a signed paper consent with its scan; the recipient redeems it, the
    subject sees it and can revoke it, and the scan is kept unchanged."""
    officer = world.staff("records1", ("records_officer",))
    scan = b"\x89PNG\r\n\x1a\n" + b"signed" * 100
    form = {**FORM, "kind": "person", "key": "V0001"}
    r = world.post(officer, "/staff/consents/paper", form, files={"scan": ("s.png", scan)})
    assert r.status_code == 200
    code = BeautifulSoup(r.text, "html.parser").select_one(".vc-number").get_text(strip=True)
    recipient = world.volunteer("V0002", "陈景行")
    view = recipient.get(
        world.post(recipient, "/consents/redeem", {"code": code}).headers["location"]
    )
    assert c("service_records", "project") in view.text
    subject = world.volunteer()
    assert "（纸质）" in subject.get("/me/consents").text
    consent_id = view.url.path.rsplit("/", 1)[1]
    assert officer.get(f"/staff/consents/{consent_id}/scan").status_code == 403  # no reference
    got = officer.get(f"/staff/consents/{consent_id}/scan", params={"ref": "核对纸质授权"})
    assert got.content == scan
    assert "纸质授权书扫描件" in subject.get("/me/access-log").text  # the download is logged


def test_paper_consent_refuses_a_file_that_is_not_a_scan_bj_14c(world: World) -> None:
    """BJ-14c: the scan must be a PDF, JPEG or PNG by its content; the form says so."""
    officer = world.staff("records2", ("records_officer",))
    form = {**FORM, "kind": "person", "key": "V0001"}
    r = world.post(officer, "/staff/consents/paper", form, files={"scan": ("s.pdf", b"MZ\x90")})
    assert r.status_code == 400 and "scan" in _errors(r.text)
