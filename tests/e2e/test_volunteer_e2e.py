"""A volunteer's journeys in the browser (issue 8): activation, the own record (BJ-14b), the
record certificate and its verification by a stranger (CQ-17), written consent issued, redeemed
and revoked (BJ-14c) with its access log (BJ-15), keyboard-only use, accessibility (axe) on every
portal page a volunteer sees, and printing.

The sample world's clock stands still, so the login throttle (10 tries in 5 minutes per client
address, tested in tests/portal) would soon refuse this module's many logins from 127.0.0.1:
each login here starts from an empty throttle table."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import zxingcpp
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import delete

from portal import accounts
from tests.e2e.conftest import Sample, check_axe, log_in, shot
from tests.portal.conftest import PASSWORD, TODAY
from volcredit import certificates
from volcredit.rules.masking import MaskKind, mask
from volcredit.store.portal_tables import login_attempts

# Invented people of content/data/volunteers.yaml: (volunteer number, name, ID number).
ACTIVATING = ("BJ2024000101", "张晓雨", "110101199204180428")
ACTIVATING_PHONE = "13911852047"
SUBJECT = ("BJ2024000103", "王若溪", "110108197812110867")
RECIPIENT = ("BJ2024000102", "李明远", "110105198509020311")
NEW_PASSWORD = "quiet-harbour-violet-73"
NUMBER = re.compile(r"\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _people(sample: Sample) -> None:
    """The consent subject's and recipient's accounts, created on first use in the store."""
    for number, name, _id in (SUBJECT, RECIPIENT):
        with sample.world.store.read() as conn:
            exists = accounts.by_login(conn, number) is not None
        if not exists:
            sample.world.account("volunteer", number, name)


def _login(page: Page, sample: Sample, login: str, password: str = PASSWORD) -> None:
    with sample.world.store.write() as conn:
        conn.execute(delete(login_attempts))
    log_in(page, sample.base, login, password)
    page.wait_for_url(f"{sample.base}/me")


def _as(sample: Sample, new_page: Callable[..., Page], person: tuple[str, str, str]) -> Page:
    """A page of its own (another browser) with ``person`` logged in."""
    _people(sample)
    page = new_page()
    _login(page, sample, person[0])
    return page


def _fill_consent(page: Page, sample: Sample, purpose: str) -> None:
    """The subject sends the consent form: RECIPIENT may see basic info and service."""
    page.goto(f"{sample.base}/me/consents")
    page.get_by_label("被授权人姓名或组织名称").fill(RECIPIENT[1])
    page.get_by_label("被授权人的身份证号码").fill(RECIPIENT[2])
    page.get_by_label("用途", exact=True).fill(purpose)
    page.get_by_label("基础信息").check()
    page.get_by_label("服务记录、服务时长与星级").check()
    page.get_by_label("到期日").fill("2026-12-20")
    page.get_by_role("button", name="出具授权书").click()


def _issue_consent(page: Page, sample: Sample, purpose: str = "核实志愿服务经历") -> str:
    """The subject issues a consent to RECIPIENT; returns the code on the consent document."""
    _fill_consent(page, sample, purpose)
    page.wait_for_url(re.compile(r"/me/consents/[^/]+$"))
    return page.locator(".vc-document .vc-number").inner_text().strip()


def _redeem(page: Page, sample: Sample, code: str) -> None:
    page.goto(f"{sample.base}/consents")
    page.get_by_label("授权书上的授权码").fill(code)
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(r"/consents/[^/]+$"))


def _issue_certificate(page: Page, sample: Sample) -> tuple[bytes, str]:
    """Issue a certificate of all records on /me/certificates; the PDF downloads at once."""
    page.goto(f"{sample.base}/me/certificates")
    with page.expect_download() as info:
        page.get_by_role("button", name="出具并下载证明").click()
    download = info.value
    found = NUMBER.search(download.suggested_filename)
    assert found, download.suggested_filename
    return Path(download.path()).read_bytes(), found.group(0)


def _pdf_text(pdf: bytes) -> str:
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def _qr_urls(pdf: bytes) -> list[str]:
    return [
        code.text
        for image in PdfReader(io.BytesIO(pdf)).pages[0].images
        for code in zxingcpp.read_barcodes(image.image)
    ]


def _verify_address(sample: Sample, number: str) -> str:
    """The portal's verification page of a certificate, as the /verify form leads to it."""
    with sample.world.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    return f"{sample.base}/verify/{number}?code={cert.verification_code}"


def _main_text(page: Page) -> str:
    return page.locator("main").inner_text()


def test_activation_own_record_and_certificate_verified_by_a_stranger_bj_14b_cq_17(
    sample: Sample, page: Page, new_page: Callable[..., Page]
) -> None:
    """Activation (number, name, ID number, code, password); BJ-14b: /me shows the whole own
    record with the ID number masked and nobody else's data; CQ-17: the downloaded PDF names
    the volunteer and its QR code leads a stranger to a page saying it is valid, without the
    holder's ID number."""
    number, name, id_number = ACTIVATING
    page.goto(f"{sample.base}/activate")
    expect(page.get_by_label("志愿者", exact=True)).to_be_checked()
    page.get_by_label("志愿者编号，或组织的统一社会信用代码").fill(number)
    page.get_by_label("姓名，或组织名称").fill(name)
    page.get_by_label("志愿者的身份证号码").fill(id_number)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("输入验证码并设置密码")
    expect(page.get_by_label("志愿者编号，或统一社会信用代码")).to_have_value(number)
    page.get_by_label("短信验证码").fill(sample.world.outbox.last_code(ACTIVATING_PHONE))
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    shot(page, "activate")
    page.get_by_role("button", name="设置密码").click()
    page.wait_for_url(f"{sample.base}/login?activated=1")
    expect(page.get_by_role("status")).to_contain_text("账户已激活")

    _login(page, sample, number, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{name}：本人的全部信息")
    basic = page.locator("#basic").inner_text()
    assert mask(MaskKind.ID_NUMBER, id_number) in basic and number in basic
    assert re.search(r"有效服务时长\s*310\.50? 小时", page.locator("#service").inner_text())
    assert page.locator("#service tbody tr").count() >= 10
    html = page.content()
    others = [v for v in (SUBJECT + RECIPIENT) if v in html]
    assert id_number not in html and others == []
    shot(page, "me")

    pdf, cert_no = _issue_certificate(page, sample)
    assert pdf.startswith(b"%PDF") and name in _pdf_text(pdf)
    urls = _qr_urls(pdf)
    assert len(urls) == 1 and cert_no not in urls[0]
    sample.rebuild()  # the static verification page comes with the next site build
    stranger = new_page()
    stranger.goto(f"{sample.base}{urlsplit(urls[0]).path}")
    text = _main_text(stranger)
    assert "有效" in text and "已撤销" not in text
    assert id_number not in stranger.content()
    assert mask(MaskKind.ID_NUMBER, id_number) not in stranger.content()
    shot(stranger, "certificate-verify")
    assert check_axe(stranger) == []
    stranger.emulate_media(media="print")  # printed, the page keeps its result, not the header
    expect(stranger.locator("header").first).to_be_hidden()
    expect(stranger.locator("main")).to_contain_text("有效")


def test_consent_issued_redeemed_seen_logged_and_revoked_bj_14c_bj_15(
    sample: Sample, new_page: Callable[..., Page]
) -> None:
    """BJ-14c: the recipient named in the consent redeems its code and sees only the consented
    classes; BJ-15: the subject sees the view in the consent's access log; after revocation the
    recipient's next view is refused with a Chinese message."""
    subject = _as(sample, new_page, SUBJECT)
    code = _issue_consent(subject, sample)
    document = subject.url
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    expect(subject.locator(".vc-document")).to_contain_text(RECIPIENT[1])
    assert RECIPIENT[2] not in subject.content()  # the recipient's number is masked too
    shot(subject, "consent-document")

    recipient = _as(sample, new_page, RECIPIENT)
    _redeem(recipient, sample, code)
    view = recipient.url
    expect(recipient.get_by_role("heading", level=1)).to_have_text(f"{SUBJECT[1]} 授权您查看的信息")
    headings = recipient.locator("main h2").all_inner_texts()
    assert headings == ["基础信息", "服务时长与星级"]
    assert SUBJECT[2] not in recipient.content()
    assert mask(MaskKind.ID_NUMBER, SUBJECT[2]) in recipient.locator("#basic").inner_text()

    subject.goto(document)
    assert RECIPIENT[1] in subject.locator("table").inner_text()  # BJ-15: who saw it, when
    subject.get_by_role("button", name="撤回此授权（立即生效）").click()
    expect(subject.locator(".vc-document")).to_contain_text("撤回")

    refused = recipient.goto(view)
    assert refused is not None and refused.status == 403
    expect(recipient.get_by_role("heading", level=1)).to_have_text("没有权限")
    expect(recipient.locator("main p").first).to_have_text("该授权已被本人撤回")
    assert SUBJECT[1] not in recipient.locator("main").inner_text()


def test_keyboard_only_login_and_errors_beside_the_field_bj_14b(
    sample: Sample, page: Page, new_page: Callable[..., Page]
) -> None:
    """Login with Tab, typing and Enter only; a wrong password (the step-up before the full ID
    number) and a too-short purpose on the consent form are each shown in Chinese inside the
    field at fault, whose input is marked aria-invalid."""
    _people(sample)
    with sample.world.store.write() as conn:
        conn.execute(delete(login_attempts))
    page.goto(f"{sample.base}/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    for _ in range(20):
        if page.evaluate("document.activeElement.name") == "login":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#f-login")).to_be_focused()
    page.keyboard.type(SUBJECT[0])
    page.keyboard.press("Tab")
    expect(page.locator("#f-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{sample.base}/me")

    page.goto(f"{sample.base}/me/id-number")
    page.get_by_label("密码", exact=True).focus()
    page.keyboard.type("not-the-password-1")
    page.keyboard.press("Enter")
    box = page.locator(".vc-field", has=page.locator("#f-password"))
    expect(box.locator(".vc-error")).to_have_text("密码不正确")
    expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
    assert SUBJECT[2] not in page.content()

    _fill_consent(page, sample, purpose="查")
    box = page.locator(".vc-field", has=page.locator("#f-purpose"))
    expect(box.locator(".vc-error")).to_contain_text("请写明授权用途")
    expect(page.locator("#f-purpose")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-recipient_name")).not_to_have_attribute("aria-invalid", "true")
    page.get_by_label("用途", exact=True).fill("核实志愿服务经历")
    for label in ("基础信息", "服务记录、服务时长与星级"):
        page.get_by_label(label).uncheck()
    page.get_by_role("button", name="出具授权书").click()
    group = page.get_by_role("group", name="可以查看的信息类别")
    expect(group.locator(".vc-error")).to_have_text("请至少选择一类信息")
    expect(group.get_by_label("培训记录")).to_have_attribute("aria-invalid", "true")


def test_every_portal_page_a_volunteer_sees_passes_axe_bj_14b_bj_14c_bj_15_cq_17(
    sample: Sample, page: Page, new_page: Callable[..., Page]
) -> None:
    """No serious or critical axe-core violation (WCAG 2.1 AA) on the pages of a volunteer:
    login, activation and its code step, the own record (BJ-14b), the ID number step-up, the
    certificates and their verification (CQ-17), consents issued and received and a consented
    view (BJ-14c), the access log (BJ-15) and an error page."""
    found: dict[str, list] = {}

    def check(p: Page, name: str) -> None:
        p.wait_for_load_state("load")
        violations = check_axe(p)
        if violations:
            found[name] = violations

    page.goto(f"{sample.base}/login")
    check(page, "login")
    page.goto(f"{sample.base}/activate")
    check(page, "activate")
    with sample.world.store.write() as conn:
        conn.execute(delete(login_attempts))
    page.get_by_label("志愿者编号，或组织的统一社会信用代码").fill("BJ2099999999")
    page.get_by_label("姓名，或组织名称").fill("无此人")
    page.get_by_label("志愿者的身份证号码").fill("110101199001011237")
    page.get_by_role("button", name="获取验证码").click()
    check(page, "activate-code")
    page.goto(f"{sample.base}/verify")
    check(page, "verify-form")
    page.goto(f"{sample.base}/me")
    check(page, "error-401")

    subject = _as(sample, new_page, SUBJECT)
    for path in ("/me", "/me/id-number", "/me/certificates", "/me/access-log"):
        subject.goto(sample.base + path)
        check(subject, path)
    code = _issue_consent(subject, sample, purpose="无障碍检查")
    check(subject, "consent-document")
    subject.goto(f"{sample.base}/me/consents")
    check(subject, "/me/consents")
    _pdf, cert_no = _issue_certificate(subject, sample)
    subject.goto(_verify_address(sample, cert_no))
    check(subject, "verify-result")

    recipient = _as(sample, new_page, RECIPIENT)
    recipient.goto(f"{sample.base}/consents")
    check(recipient, "/consents")
    _redeem(recipient, sample, code)
    check(recipient, "consented-view")
    recipient.goto(f"{sample.base}/consents/no-such-consent")
    check(recipient, "error-404")
    assert found == {}


def test_print_hides_the_portal_chrome_and_keeps_the_document_bj_14c_cq_17(
    sample: Sample, new_page: Callable[..., Page]
) -> None:
    """Printing the consent document (BJ-14c) and the certificate's verification page (CQ-17):
    the header with its navigation and logout button is not printed, the document is."""
    subject = _as(sample, new_page, SUBJECT)
    _issue_consent(subject, sample, purpose="打印检查")
    document = subject.url
    _pdf, cert_no = _issue_certificate(subject, sample)
    for address in (document, _verify_address(sample, cert_no)):
        subject.goto(address)
        subject.emulate_media(media="screen")
        expect(subject.get_by_role("button", name="退出")).to_be_visible()
        subject.emulate_media(media="print")
        expect(subject.locator("header")).to_be_hidden()
        expect(subject.get_by_role("button", name="退出")).to_be_hidden()
        expect(subject.get_by_role("navigation", name="页眉")).to_be_hidden()
        expect(subject.get_by_role("heading", level=1)).to_be_visible()
    expect(subject.get_by_role("heading", level=1)).to_have_text("志愿服务记录证明核验")
