"""Verifying record certificates over real HTTP (CQ-17, PUB-1): number and code, nothing
personal without them, throttling, revocation, supersession, organisations and access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.portal.certificate_helpers import (
    ISSUER,
    NAME,
    _assert_nothing_personal,
    _cert,
    _field_error,
    _issue,
    _qualifying_hours,
    _text,
    _verify,
)
from tests.portal.conftest import (
    ORG_A,
    ORG_B,
    TODAY,
    World,
    c,
)
from volcredit import certificates, signing
from volcredit.certificates import CertificateRefused, CertificateRequest
from volcredit.rules.masking import MaskKind, mask


def test_stranger_verifies_and_sees_nothing_personal_cq_17_pub_1(cworld: World) -> None:
    """CQ-17, PUB-1: anyone (not logged in) holding the certificate opens /verify/<number> with
    its code: 有效, the masked name, the hours, the issuer, the date and the code; never the ID
    or volunteer number, the full name, the service content or any canary. Typed numbers and
    codes are normalised; a static key without its slash goes to the static page."""
    w = cworld
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    cert = _cert(w, number)
    anon = w.client()
    r = _verify(anon, cert)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    text = _text(r.text)
    assert "有效：本证明经平台电子签名" in text
    assert mask(MaskKind.PERSON_NAME, NAME) in text
    for value in (_qualifying_hours(w.store, "V0001"), ISSUER, TODAY.isoformat()):
        assert value in text
    assert cert.verification_code in text
    assert c("service_records", "project") not in r.text and "邻里互助" not in r.text
    _assert_nothing_personal(r.text)
    typed = " " + number.lower().replace("-", " ").replace("0", "o") + " "
    code = cert.verification_code
    r = anon.get("/verify", params={"no": typed, "code": " " + code.lower() + " "})
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{number}?code={code}"
    r = anon.get(f"/verify/{number.lower()}", params={"code": code})
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{number}?code={code}"
    assert anon.get("/verify", params={"no": "abc", "code": code}).status_code == 400
    no_code = anon.get("/verify", params={"no": number})
    assert no_code.status_code == 400 and "校验码" in _field_error(no_code.text, "code")
    assert anon.get("/verify/nonsense").status_code == 404
    assert anon.get("/verify").status_code == 200
    key = certificates.static_key(number, code)
    r = anon.get(f"/verify/{key}")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{key}/"


def test_verification_needs_the_code_and_shows_nothing_without_it_cq_17_pub_1(
    cworld: World,
) -> None:
    """CQ-17, PUB-1 (review: every number is public, so the number alone must show nothing):
    /verify/<number> without a code shows only the form asking for it; with a wrong code, and
    for an unknown number, the same error beside the code field (404), so numbers cannot be
    probed, and nothing of the certificate: no name, hours, organisation, period, date, status
    or revocation reason."""
    w = cworld
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    officer = w.staff("officer1", ("records_officer",))
    reason = "所依据的服务记录经核实有误"
    assert (
        w.post(officer, f"/staff/certificates/{number}/revoke", {"reason": reason}).status_code
        == 303
    )
    cert = _cert(w, number)
    anon = w.client()
    wrong = "0" * 8 if cert.verification_code != "0" * 8 else "1" * 8
    hidden = [
        mask(MaskKind.PERSON_NAME, NAME),
        cert.payload["hours"],
        cert.payload["period"],
        cert.payload["issued_on"],
        cert.verification_code,
        reason,
        "已撤销",
        "有效：",
        "全部组织",
    ]
    answers = {
        "none": anon.get(f"/verify/{number}"),
        "wrong": anon.get(f"/verify/{number}", params={"code": wrong}),
        "unknown": anon.get("/verify/2026-0000-0000-0000", params={"code": wrong}),
    }
    assert answers["none"].status_code == 200
    assert "请填写证明上印的校验码" in _field_error(answers["none"].text, "code")
    for label, r in answers.items():
        shown = [v for v in hidden if v in r.text]
        assert shown == [], (label, shown)
        _assert_nothing_personal(r.text)
        assert r.headers["cache-control"] == "no-store"
    assert answers["wrong"].status_code == answers["unknown"].status_code == 404
    assert _field_error(answers["wrong"].text, "code") == _field_error(
        answers["unknown"].text, "code"
    )
    right = _verify(anon, cert)
    text = _text(right.text)
    assert right.status_code == 200 and reason in text and "已撤销" in text
    assert mask(MaskKind.PERSON_NAME, NAME) in text


def test_wrong_codes_are_throttled_per_address_cq_17(cworld: World) -> None:
    """CQ-17, PUB-1: after 10 wrong codes in 5 minutes the address gets 429 even with the right
    code (so guessing cannot find it), and the login of the same address is not affected."""
    w = cworld
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    cert = _cert(w, number)
    anon = w.client()
    wrong = "0" * 8 if cert.verification_code != "0" * 8 else "1" * 8
    for _ in range(10):
        assert anon.get(f"/verify/{number}", params={"code": wrong}).status_code == 404
    blocked = _verify(anon, cert)
    assert blocked.status_code == 429 and "尝试次数过多" in _field_error(blocked.text, "code")
    assert mask(MaskKind.PERSON_NAME, NAME) not in blocked.text
    w.clock.advance(timedelta(minutes=6))
    assert _verify(anon, cert).status_code == 200


def test_staff_revoke_shows_on_verification_cq_17(cworld: World) -> None:
    """CQ-17, BJ-23: a records officer finds a certificate, revokes it only with a reason, and
    /verify then shows 已撤销 with the reason and date to anyone; the PDF is no longer served
    and a second revocation is refused beside the field."""
    w = cworld
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    officer = w.staff("officer1", ("records_officer",))
    assert "/staff/certificates" in officer.get("/staff").text
    page = officer.get("/staff/certificates", params={"no": number.lower()})
    assert page.status_code == 200 and "撤销此证明" in page.text
    _assert_nothing_personal(page.text)
    missing = officer.get("/staff/certificates", params={"no": "2026-0000-0000-0000"})
    assert missing.status_code == 400 and "没有这个证明编号" in missing.text
    path = f"/staff/certificates/{number}/revoke"
    empty = w.post(officer, path, {"reason": "  "})
    assert empty.status_code == 400
    assert "请写明撤销理由" in _field_error(empty.text, "reason")
    r = w.post(officer, path, {"reason": "所依据的服务记录经核实有误"})
    assert r.status_code == 303
    assert "已撤销该证明" in officer.get(r.headers["location"]).text
    shown = _verify(w.client(), _cert(w, number))
    text = _text(shown.text)
    assert "已撤销" in text and "所依据的服务记录经核实有误" in text
    assert f"已于 {TODAY.isoformat()} 撤销" in text
    _assert_nothing_personal(shown.text)
    gone = me.get(f"/me/certificates/{number}.pdf")
    assert gone.status_code == 404 and "已撤销" in gone.text
    again = w.post(officer, path, {"reason": "再次撤销"})
    assert again.status_code == 400 and "已撤销" in again.text
    assert w.post(me, path, {"reason": "本人撤销"}).status_code == 403


def test_second_certificate_supersedes_the_first_cq_17(cworld: World) -> None:
    """CQ-17, PUB-1: a new certificate of the same scope marks the earlier one 已被新证明取代
    without naming or linking the new one (the holder of the old one may not have it); a
    certificate of another scope does not."""
    w = cworld
    me = w.volunteer("V0001", NAME)
    first = _issue(w, me, scope="all")
    other_scope = _issue(w, me, scope=ORG_A)
    second = _issue(w, me, scope="all")
    anon = w.client()
    old = _verify(anon, _cert(w, first))
    assert old.status_code == 200 and "已被新证明取代" in _text(old.text)
    assert second not in old.text and second.replace("-", "") not in old.text
    assert other_scope not in old.text and "/verify/" not in old.text
    _assert_nothing_personal(old.text)
    for number in (second, other_scope):
        assert "有效：本证明经平台电子签名" in _text(_verify(anon, _cert(w, number)).text)
    listed = _text(me.get("/me/certificates").text)
    assert "已被新证明取代" in listed
    assert me.get(f"/me/certificates/{first}.pdf").status_code == 404


def test_organisation_certifies_only_its_own_records_cq_17(cworld: World) -> None:
    """CQ-17, BJ-15: an organisation's certificate covers only its own records (HN-2b exclusions
    left out), names it as issuer and is in the volunteer's access log; a volunteer without
    records there, or an unknown number, get the same refusal beside the field; another
    organisation's scope is refused by the core."""
    w = cworld
    org = w.organisation(ORG_A, "东城区阳光志愿者协会")
    assert "/me/certificates" in org.get("/me").text
    page = org.get("/me/certificates")
    assert page.status_code == 200 and "本组织出具的证明" in page.text
    number = _issue(w, org, volunteer_no="v0001", scope="all", organisation=ORG_B)
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    assert cert.payload["hours"] == _qualifying_hours(w.store, "V0001", ORG_A) == "3.50"
    assert cert.payload["issuer"] == "东城区阳光志愿者协会" and cert.issuer_uscc == ORG_A
    assert cert.payload["organisation"] == "东城区阳光志愿者协会"
    assert number in org.get("/me/certificates").text
    assert org.get(f"/me/certificates/{number}.pdf").status_code == 200
    refusals = [
        w.post(org, "/me/certificates", {"volunteer_no": "V0002"}),
        w.post(org, "/me/certificates", {"volunteer_no": "V9999"}),
    ]
    for r in refusals:
        assert r.status_code == 400
        assert "该志愿者在本组织没有可证明的服务记录" in _field_error(r.text, "volunteer_no")
    key = signing.load_or_create_key(Path(w.app.state.portal.settings.signing_key))[0]
    with pytest.raises(CertificateRefused), w.store.write() as conn:
        certificates.issue(
            conn, CertificateRequest("V0001", ORG_B), TODAY, "t", w.clock.now(), key, "x", ORG_A
        )
    volunteer = w.volunteer("V0001", NAME)
    listed = _text(volunteer.get("/me/certificates").text)
    assert number in listed and "东城区阳光志愿者协会" in listed  # the volunteer sees it too
    log = _text(volunteer.get("/me/access-log").text)  # BJ-15: who saw my data
    assert "服务组织出具记录证明" in log and number in log


def test_others_cannot_download_a_certificate_cq_17_pub_1(cworld: World) -> None:
    """CQ-17, PUB-1: only the volunteer it is about (and the issuing organisation) get the PDF;
    another volunteer, another organisation and staff do not, anonymous goes to login."""
    w = cworld
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    path = f"/me/certificates/{number}.pdf"
    w.account("volunteer", "V0002", "陈景行")
    for client in (w.login("V0002"), w.organisation(ORG_A, "东城区阳光志愿者协会")):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        _assert_nothing_personal(r.text)
    staff = w.staff("officer1", ("records_officer",))
    assert staff.get(path).status_code == 403
    r = w.client().get(path)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_issue_form_errors_beside_the_field_cq_17(cworld: World) -> None:
    """CQ-17 (STYLE: errors beside the field, 400): a reversed or future period, a malformed
    date and an organisation without qualifying records are refused and nothing is issued."""
    w = cworld
    me = w.volunteer("V0001", NAME)
    page = _text(me.get("/me/certificates").text)
    assert (
        "仅 东城区阳光志愿者协会 的服务记录" in page and "仅 芙蓉区邻里互助中心 的服务记录" in page
    )
    cases = [
        ({"period_from": "2026-05-01", "period_to": "2026-01-01"}, "period_to", "不能早于"),
        ({"period_to": "2027-01-01"}, "period_to", "不能晚于今天"),
        ({"period_from": "2026-13-01"}, "period_from", "YYYY-MM-DD"),
        ({"scope": "91110000000000000X"}, "scope", "没有可证明的服务记录"),
        ({"period_to": "2020-01-01"}, "period_from", "没有可证明的服务记录"),
    ]
    for data, name, message in cases:
        r = w.post(me, "/me/certificates", {"scope": "all", **data})
        assert r.status_code == 400, (data, r.status_code)
        assert message in _field_error(r.text, name), data
    with w.store.read() as conn:
        assert certificates.of_volunteer(conn, "V0001", TODAY) == []
