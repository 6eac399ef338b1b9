"""Record certificates over real HTTP (CQ-17, HN-2b, PUB-1): a volunteer or an organisation
issues one, the volunteer downloads the signed PDF, anyone verifies it at /verify, staff revoke
it, and a changed document is caught by ``check`` and by ``volcredit verify-certificate``."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import zxingcpp
from bs4 import BeautifulSoup
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from portal import certificate_pdf
from tests.builders import id_number, load, write_content
from tests.portal.conftest import (
    ADULT_ID,
    ORG_A,
    ORG_B,
    SECRET_STRINGS,
    TODAY,
    World,
    c,
    canary_tables,
    serve_world,
)
from volcredit import certificates, cli, signing
from volcredit.certificates import CertificateRefused, CertificateRequest
from volcredit.rules.masking import MaskKind, mask
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import content_tables

SITE_URL = "https://zyfw.example.gov.cn/"
ISSUER = "示例市民政局志愿服务信用信息平台"
NAME = "林若溪"
PERSONAL = [*SECRET_STRINGS, NAME, "V0001", mask(MaskKind.ID_NUMBER, ADULT_ID)]


def _world(store: Store, tmp_path: Path) -> Iterator[World]:
    """The canary world plus one qualifying ORG_B record of V0001, with the signing key in
    ``tmp_path`` (never the working directory's) and a public site address."""
    tables = canary_tables()
    tables["service_records"].append(
        {
            "record_id": "R10",
            "volunteer_no": "V0001",
            "organisation": ORG_B,
            "project": "邻里互助",
            "date": date(2026, 3, 14),
            "hours": "2.25",
            "recorded_on": date(2026, 3, 16),
        }
    )
    rare = {**tables["volunteers"][1], "volunteer_no": "V0004", "name": "李𪚥"}  # 𪚥: U+2A6A5
    tables["volunteers"].append({**rare, "id_number": id_number("110101", date(1988, 1, 2), 321)})
    tables["service_records"].append(
        {**tables["service_records"][-1], "record_id": "R11", "volunteer_no": "V0004"}
    )
    assert load(store, write_content(tmp_path / "content", tables)).ok
    for world in serve_world(store, tmp_path):
        portal = world.app.state.portal
        key = str(tmp_path / "keys" / "signing.key")
        portal.settings = replace(
            portal.settings, signing_key=key, site_url=SITE_URL, issuer=ISSUER
        )
        yield world


@pytest.fixture
def cworld(store: Store, tmp_path: Path) -> Iterator[World]:
    """On SQLite and on PostgreSQL."""
    yield from _world(store, tmp_path)


@pytest.fixture
def pdf_world(tmp_path: Path) -> Iterator[World]:
    """On a SQLite file only (the PDF tests)."""
    s = open_store(f"sqlite:///{tmp_path / 'certificates.sqlite3'}")
    try:
        yield from _world(s, tmp_path)
    finally:
        s.dispose()


def _public_key(world: World) -> Path:
    return Path(f"{world.app.state.portal.settings.signing_key}.pub")


def _issue(world: World, client: httpx.Client, **data: str) -> str:
    """Issue through the form; the answer goes to the new certificate's download."""
    r = world.post(client, "/me/certificates", data)
    assert r.status_code == 303, r.text
    found = re.fullmatch(
        r"/me/certificates/(\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\.pdf", r.headers["location"]
    )
    assert found, r.headers["location"]
    return found.group(1)


def _download(client: httpx.Client, number: str) -> bytes:
    r = client.get(f"/me/certificates/{number}.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["cache-control"] == "no-store"
    return r.content


def _page_text(pdf: bytes) -> str:
    """The printed text as pypdf extracts it, without whitespace and NULs."""
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def _attachment(pdf: bytes) -> dict:
    return json.loads(PdfReader(io.BytesIO(pdf)).attachments[certificate_pdf.ATTACHMENT][0])


def _qualifying_hours(store: Store, volunteer_no: str, organisation: str | None = None) -> str:
    """The sum of the volunteer's records that are not HN-2b exclusions, from the store."""
    r = content_tables["service_records"]
    where = [r.c.volunteer_no == volunteer_no, r.c.excluded_kind.is_(None)]
    if organisation:
        where.append(r.c.organisation == organisation)
    with store.read() as conn:
        hours = conn.execute(select(r.c.hours).where(*where)).scalars().all()
    return f"{sum(hours, Decimal(0)):.2f}"


def _text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def _assert_nothing_personal(html: str) -> None:
    """PUB-1: no ID number (full or masked), volunteer number, full name or canary."""
    assert [v for v in PERSONAL if v in html] == []


def _field_error(html: str, name: str) -> str:
    """The error shown beside the form field ``name`` (an input or a group of radios)."""
    for box in BeautifulSoup(html, "html.parser").select(".vc-field--error"):
        if box.select_one(f'[name="{name}"]') is not None:
            error = box.select_one(".vc-error")
            assert error is not None
            return error.get_text()
    raise AssertionError(f"no error beside {name}")


def _with_attachment(pdf: bytes, data: bytes | None) -> bytes:
    """The same pages with ``data`` as the only certificate.json (or none)."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf)))  # pages only: the attachment is left behind
    if data is not None:
        writer.add_attachment(certificate_pdf.ATTACHMENT, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_volunteer_downloads_signed_certificate_cq_17_hn_2b(pdf_world: World) -> None:
    """CQ-17, HN-2b: the PDF prints the name, the masked ID number, the volunteer number, the
    hours of the non-excluded records only (computed here from the store), the issuer, the
    number and the date; its attachment is the signed payload and ``check`` finds no problem."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    page = me.get("/me/certificates")
    assert page.status_code == 200
    assert "按规定不属于志愿服务的活动（HN-2b）不计入证明" in _text(page.text)
    assert "您有 1 条服务记录属于这种情况" in _text(page.text)
    number = _issue(w, me, scope="all")
    pdf = _download(me, number)
    text = _page_text(pdf)
    hours = _qualifying_hours(w.store, "V0001")
    assert hours == "5.75"  # 3.5 (ORG_A) + 2.25 (ORG_B); the 4-hour duty shift is excluded
    masked = mask(MaskKind.ID_NUMBER, ADULT_ID)
    for label, value in [
        ("证明编号", number),
        ("姓名", NAME),
        ("证件类型", "居民身份证"),
        ("证件号码", masked),
        ("志愿者编号", "V0001"),
        ("服务时长（小时）", hours),
        ("服务记录条数", "2"),
        ("服务组织", "全部组织"),
        ("出具单位", ISSUER),
        ("出具日期", TODAY.isoformat()),
    ]:
        assert label + value in text, (label, value)
    assert ADULT_ID not in text and ADULT_ID[6:14] not in text
    signed = _attachment(pdf)
    assert signed["payload"]["hours"] == hours and signed["payload"]["certificate_no"] == number
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None and signed["signature"] == cert.signature
    assert f"校验码：{cert.verification_code}" in text
    key = signing.load_public_key(_public_key(w).read_bytes())
    assert certificate_pdf.check(pdf, key) == []
    listed = _text(me.get("/me/certificates").text)
    assert number in listed and "有效" in listed


def test_full_id_number_only_when_asked_cq_17_pub_1(pdf_world: World) -> None:
    """CQ-17, PUB-7: the ID number is masked unless the volunteer ticks 显示完整证件号码."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    masked = _page_text(_download(me, _issue(w, me, scope="all")))
    assert ADULT_ID not in masked and mask(MaskKind.ID_NUMBER, ADULT_ID) in masked
    full = _page_text(_download(me, _issue(w, me, scope="all", full_id="1")))
    assert f"证件号码{ADULT_ID}" in full


def test_qr_code_decodes_to_the_verification_address_cq_17(pdf_world: World) -> None:
    """CQ-17, HN-2: the QR code on the PDF is the public verification address, also printed."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    pdf = _download(me, number)
    url = f"{SITE_URL}verify/{number}"
    decoded = [
        b.text
        for image in PdfReader(io.BytesIO(pdf)).pages[0].images
        for b in zxingcpp.read_barcodes(image.image)
    ]
    assert decoded == [url]
    assert f"扫码或访问{url}核验" in _page_text(pdf)


def test_altered_certificate_is_detected_cq_17(pdf_world: World) -> None:
    """CQ-17 (HN-2d: certificates verifiable): (a) the signed data with other hours, printed
    consistently, fail the signature; (b) other hours printed over the genuine signed data are
    found on the page; (c) no attachment, another key or a non-PDF are each reported."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    genuine = _download(me, number)
    key = signing.load_public_key(_public_key(w).read_bytes())
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    forged = certificate_pdf.render(
        replace(cert, payload={**cert.payload, "hours": "999.00"}), f"{SITE_URL}verify/{number}"
    )
    problems = certificate_pdf.check(forged, key)
    assert len(problems) == 1 and problems[0].startswith("签名无效"), problems
    original = json.dumps(_attachment(genuine), ensure_ascii=False).encode()
    printed = _with_attachment(forged, original)
    problems = certificate_pdf.check(printed, key)
    assert problems == [f"页面上的服务时长（小时）与签名数据不符（应为 {cert.payload['hours']}）"]
    assert "签名数据附件" in " ".join(certificate_pdf.check(_with_attachment(genuine, None), key))
    other = signing.load_or_create_key(Path(w.app.state.portal.settings.signing_key + ".x"))[0]
    assert certificate_pdf.check(genuine, other.public_key())[0].startswith(
        "签名无效：签名密钥指纹"
    )
    assert certificate_pdf.check(b"not a pdf", key) == ["文件不是可读取的 PDF"]


def test_cli_verify_certificate_exit_status_cq_17(
    pdf_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """CQ-17: ``volcredit verify-certificate`` prints 证明有效 and the number (exit 0), or one
    line per problem (exit 1); the default public key is the .pub beside the signing key."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(_download(me, number))
    pub = str(_public_key(w))
    assert cli.main(["verify-certificate", str(genuine), "--public-key", pub]) == 0
    out = capsys.readouterr().out
    assert f"证明有效：{number}" in out and "签名公钥指纹" in out
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(
        certificate_pdf.render(replace(cert, payload={**cert.payload, "hours": "99.00"}), "x")
    )
    assert cli.main(["verify-certificate", str(forged), "--public-key", pub]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{forged}: 签名无效：证明内容在出具后被改动，或不是由该公钥对应的机关出具"
    assert err[-1] == "证明校验失败。"
    monkeypatch.setenv("VOLCREDIT_SIGNING_KEY", w.app.state.portal.settings.signing_key)
    assert cli.main(["verify-certificate", str(genuine)]) == 0
    assert cli.main(["verify-certificate", str(tmp_path / "missing.pdf")]) == 2


def test_stranger_verifies_and_sees_nothing_personal_cq_17_pub_1(cworld: World) -> None:
    """CQ-17, PUB-1: anyone (not logged in) opens /verify/<number>: 有效, the masked name, the
    hours, the issuer, the date and the code; never the ID or volunteer number, the full name,
    the service content or any canary. Typed numbers are normalised; unknown ones are 404."""
    w = cworld
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    anon = w.client()
    r = anon.get(f"/verify/{number}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    text = _text(r.text)
    assert "有效：本证明经平台电子签名" in text
    assert mask(MaskKind.PERSON_NAME, NAME) in text
    for value in (_qualifying_hours(w.store, "V0001"), ISSUER, TODAY.isoformat()):
        assert value in text
    assert cert.verification_code in text
    assert c("service_records", "project") not in r.text and "邻里互助" not in r.text
    _assert_nothing_personal(r.text)
    typed = " " + number.lower().replace("-", " ").replace("0", "o") + " "
    r = anon.get("/verify", params={"no": typed})
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{number}"
    r = anon.get(f"/verify/{number.lower()}")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{number}"
    assert anon.get("/verify", params={"no": "abc"}).status_code == 400
    assert anon.get("/verify/2026-0000-0000-0000").status_code == 404
    assert anon.get("/verify/nonsense").status_code == 404
    assert anon.get("/verify").status_code == 200


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
    shown = w.client().get(f"/verify/{number}")
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
    """CQ-17: a new certificate of the same scope marks the earlier one 已被新证明取代 with a
    link to the new one; a certificate of another scope does not."""
    w = cworld
    me = w.volunteer("V0001", NAME)
    first = _issue(w, me, scope="all")
    other_scope = _issue(w, me, scope=ORG_A)
    second = _issue(w, me, scope="all")
    anon = w.client()
    old = anon.get(f"/verify/{first}")
    assert "已被新证明取代" in _text(old.text)
    assert f'href="/verify/{second}"' in old.text
    _assert_nothing_personal(old.text)
    for number in (second, other_scope):
        assert "有效：本证明经平台电子签名" in _text(anon.get(f"/verify/{number}").text)
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


def test_unprintable_character_is_refused_before_issue_cq_17(pdf_world: World) -> None:
    """CQ-17: a name with a character the font lacks (U+2A6A5) would print as an empty box and
    fail its own check: the form says so and nothing is issued; ``render`` refuses too."""
    w = pdf_world
    me = w.volunteer("V0004", "李𪚥")
    r = w.post(me, "/me/certificates", {"scope": "all"})
    assert r.status_code == 400
    error = BeautifulSoup(r.text, "html.parser").select_one("#e-form")
    assert error is not None and "𪚥" in error.get_text()
    with w.store.read() as conn:
        assert certificates.of_volunteer(conn, "V0004", TODAY) == []
    assert certificate_pdf.unprintable({"name": "李𪚥", "x": "刘䶮 𠮷 Zoë"}) == ["𪚥"]
    number = _issue(w, w.volunteer("V0001", NAME), scope="all")
    with w.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    with pytest.raises(certificate_pdf.FontMissing, match="𪚥"):
        certificate_pdf.render(replace(cert, payload={**cert.payload, "name": "李𪚥"}), "x")
