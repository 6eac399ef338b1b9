"""Record certificates over real HTTP (CQ-17, HN-2b, PUB-1): a volunteer or an organisation
issues one, the volunteer downloads the signed PDF, anyone holding it verifies it at /verify with
its number and verification code (or at the static page its QR code names), staff revoke it, and
a changed document is caught by ``check`` and by ``volcredit verify-certificate``."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from bs4 import BeautifulSoup
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from portal import certificate_pdf
from tests.portal.certificate_helpers import (
    ISSUER,
    NAME,
    SITE_URL,
    _attachment,
    _cert,
    _download,
    _issue,
    _page_text,
    _public_key,
    _qualifying_hours,
    _text,
    _url,
    _with_attachment,
)
from tests.portal.conftest import (
    ADULT_ID,
    TODAY,
    World,
)
from volcredit import certificates, cli, signing
from volcredit.rules.masking import MaskKind, mask


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
    assert certificate_pdf.check(pdf, key, SITE_URL) == []
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
    """CQ-17, HN-2, PUB-1: the QR code on the PDF is the static verification page, also
    printed: its address is derived from the number and the code and names neither."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    pdf = _download(me, number)
    cert = _cert(w, number)
    url = _url(cert)
    key = certificates.static_key(number, cert.verification_code)
    assert url == f"{SITE_URL}verify/{key}/" and number not in url
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
    found on the page; (c) no attachment, another key or a non-PDF are each reported; the
    genuine pages with the attachment re-added still pass."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    genuine = _download(me, number)
    key = signing.load_public_key(_public_key(w).read_bytes())
    cert = _cert(w, number)
    forged = certificate_pdf.render(
        replace(cert, payload={**cert.payload, "hours": "999.00"}), _url(cert)
    )
    problems = certificate_pdf.check(forged, key, SITE_URL)
    assert len(problems) == 1 and problems[0].startswith("签名无效"), problems
    original = json.dumps(_attachment(genuine), ensure_ascii=False).encode()
    assert certificate_pdf.check(_with_attachment(genuine, original), key, SITE_URL) == []
    printed = _with_attachment(forged, original)
    problems = certificate_pdf.check(printed, key, SITE_URL)
    assert problems[0] == f"页面上的服务时长（小时）与签名数据不符（应为 {cert.payload['hours']}）"
    assert problems[1].startswith("页面文字与签名数据生成的证明不一致") and len(problems) == 2
    missing = certificate_pdf.check(_with_attachment(genuine, None), key, SITE_URL)
    assert "签名数据附件" in " ".join(missing)
    other = signing.load_or_create_key(Path(w.app.state.portal.settings.signing_key + ".x"))[0]
    assert certificate_pdf.check(genuine, other.public_key(), SITE_URL)[0].startswith(
        "签名无效：签名密钥指纹"
    )
    assert certificate_pdf.check(b"not a pdf", key, SITE_URL) == ["文件不是可读取的 PDF"]


def _overlay(pdf: bytes, draw: Callable[[FPDF], None]) -> bytes:
    """``pdf`` with what ``draw`` puts on an A4 page stamped over its first page (the
    attachment kept)."""
    stamp = FPDF(format="A4")
    stamp.add_page()
    draw(stamp)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(bytes(stamp.output()))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_forgeries_that_keep_the_genuine_attachment_fail_cq_17_pub_1(
    pdf_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CQ-17 (review: the check only looked for label+value somewhere in the text), PUB-1 (the
    QR leads to the page that names no number): with the genuine signed attachment, (a) a
    digit appended to a printed value (records 2 → 20: "服务记录条数2" is still in the text),
    (b) an extra line of hidden white text, (c) a QR code of another address under the genuine
    printed address, and (d) a white box drawn over the page are each refused."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    genuine = _download(me, number)
    key = signing.load_public_key(_public_key(w).read_bytes())
    cert = _cert(w, number)
    attachment = json.dumps(_attachment(genuine), ensure_ascii=False).encode()
    records = str(cert.payload["records"])
    assert records == "2"
    more = replace(cert, payload={**cert.payload, "records": int(records + "0")})
    appended = _with_attachment(certificate_pdf.render(more, _url(cert)), attachment)
    problems = certificate_pdf.check(appended, key, SITE_URL)
    assert len(problems) == 1, problems
    assert problems[0].startswith("页面文字与签名数据生成的证明不一致（有文字被改动、增加或删去）")
    assert "之后多出“0”" in problems[0]

    def white_line(pdf: FPDF) -> None:
        pdf.set_font("helvetica", size=12)
        pdf.set_text_color(255, 255, 255)
        pdf.text(30, 280, "Service hours 340.00")

    problems = certificate_pdf.check(_overlay(genuine, white_line), key, SITE_URL)
    assert len(problems) == 1 and "多出“Servicehours340.00”" in problems[0], problems

    real_qr = certificate_pdf._qr_png
    monkeypatch.setattr(
        certificate_pdf, "_qr_png", lambda _url: real_qr("https://evil.example/verify/x/")
    )
    other_qr = certificate_pdf.render(cert, _url(cert))
    monkeypatch.undo()
    problems = certificate_pdf.check(other_qr, key, SITE_URL)
    assert problems == [f"二维码（页面上的图片）与证明不符：应只有指向 {_url(cert)} 的核验二维码"]

    def white_box(pdf: FPDF) -> None:
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(60, 60, 30, 8, style="F")

    problems = certificate_pdf.check(_overlay(genuine, white_box), key, SITE_URL)
    assert problems == ["页面上有证明之外的图形、覆盖物或批注"]
    other_site = certificate_pdf.check(genuine, key, "https://fake.example/")
    assert any(p.startswith("二维码") for p in other_site) and len(other_site) == 2


def test_cli_verify_certificate_exit_status_cq_17(
    pdf_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """CQ-17: ``volcredit verify-certificate`` prints 证明有效 and the number (exit 0), or one
    line per problem (exit 1); the default public key is the .pub beside the signing key, the
    default site the setting (a certificate from another site fails: its QR code differs)."""
    w = pdf_world
    me = w.volunteer("V0001", NAME)
    number = _issue(w, me, scope="all")
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(_download(me, number))
    pub = str(_public_key(w))
    site = ["--site-url", SITE_URL]
    assert cli.main(["verify-certificate", str(genuine), "--public-key", pub, *site]) == 0
    out = capsys.readouterr().out
    assert f"证明有效：{number}" in out and "签名公钥指纹" in out
    cert = _cert(w, number)
    assert f"请查看核验页：{_url(cert)}" in out
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(
        certificate_pdf.render(replace(cert, payload={**cert.payload, "hours": "99.00"}), "x")
    )
    assert cli.main(["verify-certificate", str(forged), "--public-key", pub, *site]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{forged}: 签名无效：证明内容在出具后被改动，或不是由该公钥对应的机关出具"
    assert err[-1] == "证明校验失败。"
    monkeypatch.setenv("VOLCREDIT_SIGNING_KEY", w.app.state.portal.settings.signing_key)
    assert cli.main(["verify-certificate", str(genuine)]) == 1  # the setting's site differs
    err = capsys.readouterr().err
    assert "二维码" in err and "页面文字" in err
    assert cli.main(["verify-certificate", str(genuine), "--site-url", SITE_URL[:-1]]) == 0
    assert cli.main(["verify-certificate", str(tmp_path / "missing.pdf")]) == 2


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
