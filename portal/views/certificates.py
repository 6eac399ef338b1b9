"""Record certificates (志愿服务记录证明, CQ-17): a volunteer issues and downloads their own; an
organisation issues one covering only its own records; a records officer revokes one with a
reason; anyone holding a certificate checks it at ``/verify/<number>?code=<verification code>``.

Hours and record counts exclude every HN-2b record (``volcredit.certificates``), and the pages
say so. Verification needs the number and the verification code printed on the certificate
(numbers alone are not secret to everyone who ever saw one); a missing, wrong or unknown
pair shows the form again, the same answer for an unknown number as for a wrong code, and
wrong codes count against the client address in the login throttle's table. With the right
code it shows only ``certificates.public_view``: the masked name and the certificate's
non-personal fields, never the ID or volunteer number, the service content or the number of a
newer certificate (PUB-1, PUB-7). The QR code points to the static page
(``certificates.verify_path``), which the portal serves with the site.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portal import certificate_pdf, throttle
from portal.context import own_subject, portal_of, signed_in
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import public, staff, subject
from portal.views.auth import TOO_MANY, client_address
from volcredit import access_log, certificates, held, signing
from volcredit.access_log import AccessEntry
from volcredit.certificates import Certificate, CertificateRefused, CertificateRequest
from volcredit.held import Subject
from volcredit.settings import Settings

log = logging.getLogger("volcredit.portal")
ROLE = "records_officer"
GONE = "登记信息中已没有您的记录，请联系登记机关。"
NOT_FOUND = "没有这个证明编号。请核对证明上印的编号（形如 2026-XXXX-XXXX-XXXX）。"
_BODY = re.compile(r"\d{4}[0-9A-HJKMNP-TV-Z]{12}")  # year + 12 Crockford base32 characters
_DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "‐": "-"})
WRONG_CODE = "证明编号或校验码不对。请核对证明上印的证明编号和校验码。"
NO_CODE = "请填写证明上印的校验码（8 位字母数字）。"
_STATIC_KEY = re.compile(r"[0-9a-f]{32}")
STATUS_LABELS = {"valid": "有效", "revoked": "已撤销", "superseded": "已被新证明取代"}


def canonical_number(raw: str) -> str | None:
    """A typed certificate number in its printed form (any case, spaces, dashes or none, O for
    0, I or L for 1), or None if it cannot be one."""
    if len(raw) > 64:
        return None
    compact = certificates.normalise_number(raw.translate(_DASHES)).replace("-", "")
    if not _BODY.fullmatch(compact):
        return None
    return f"{compact[:4]}-{compact[4:8]}-{compact[8:12]}-{compact[12:]}"


def verify_url(settings: Settings, cert: Certificate) -> str:
    """Where the certificate is checked (printed and in the QR code): its static page, which
    names no certificate number (PUB-1), on the site and through the portal alike."""
    path = certificates.verify_path(cert.certificate_no, cert.verification_code)
    return f"{settings.site_url}{path}"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The authority's key (the one that signs the site manifest)."""
    key, created = signing.load_or_create_key(Path(settings.signing_key))
    if created:
        log.warning(
            "created a new signing key at %s: publish its .pub (the site does as manifest.pub)",
            settings.signing_key,
        )
    return key


def _date(form: FormData, name: str, errors: dict[str, str]) -> date | None:
    raw = field(form, name).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 YYYY-MM-DD"
        return None


def _may_download(me: Subject, cert: Certificate) -> bool:
    """The volunteer it is about, and the organisation that issued it."""
    if me.kind == "person":
        return cert.volunteer_no == me.key
    return cert.issuer_uscc == me.key


@subject
async def my_certificates(request: Request) -> Response:
    return _page(request)


def _page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    portal, _v = signed_in(request)
    me = own_subject(request)
    if me is None:
        return error_page(request, 404, GONE)
    today = portal.today()
    context: dict[str, object] = {
        "subject": me,
        "today": today,
        "errors": errors or {},
        "values": values or {"scope": "all"},
        "status_labels": STATUS_LABELS,
    }
    with portal.store.read() as conn:
        if me.kind == "person":
            context["certificates"] = certificates.of_volunteer(conn, me.key, today)
            context["organisations"] = certificates.scope_organisations(conn, me.key, today)
            context["hours"] = held.hours_summary(conn, me.key)
        else:
            context["certificates"] = certificates.issued_by(conn, me.key, today)
    name = "certificate_list.html" if me.kind == "person" else "certificate_org.html"
    return render(request, name, context, status)


@subject
async def issue_certificate(request: Request) -> Response:
    """CQ-17: issue a signed certificate from the records and go to its download. A volunteer
    chooses all records or one organisation's; an organisation issues for its own records."""
    portal, v = signed_in(request)
    me = own_subject(request)
    form = await form_of(request)
    if me is None:
        return error_page(request, 404, GONE)
    errors: dict[str, str] = {}
    period = (_date(form, "period_from", errors), _date(form, "period_to", errors))
    values: dict[str, object] = {
        n: field(form, n).strip() for n in ("scope", "period_from", "period_to", "volunteer_no")
    }
    values["full_id"] = field(form, "full_id") == "1"
    if me.kind == "person":
        scope = field(form, "scope")
        values["scope"] = scope or "all"
        req = CertificateRequest(
            me.key,
            None if scope in ("", "all") else scope,
            *period,
            full_id=bool(values["full_id"]),
        )
        issuer, uscc = portal.settings.issuer, None
    else:
        number = str(values["volunteer_no"]).upper()
        if not number:
            errors["volunteer_no"] = "请填写志愿者编号"
        req = CertificateRequest(number, me.key, *period)
        issuer, uscc = me.name, me.key
    if not errors:
        try:
            with portal.store.write() as conn:
                cert = certificates.issue(
                    conn,
                    req,
                    portal.today(),
                    f"portal:{v.account.account_id}",
                    portal.now(),
                    signing_key(portal.settings),
                    issuer,
                    uscc,
                )
                missing = certificate_pdf.unprintable(cert.payload)
                if missing:  # leaving the block with an error rolls the issue back
                    raise CertificateRefused("form", _unprintable(missing))
                if uscc is not None:  # an organisation read the volunteer's data (BJ-15)
                    entry = AccessEntry(
                        v.account.account_id,
                        v.account.display_name,
                        "person",
                        req.volunteer_no,
                        "organisation",
                        cert.certificate_no,
                        "出具志愿服务记录证明（本组织的服务记录）",
                    )
                    access_log.record(conn, entry, portal.now())
        except CertificateRefused as refused:
            errors[_form_field(me, refused.field)] = _message(me, refused)
        except certificate_pdf.FontMissing as font:
            log.error("certificate PDF: %s", font)
            errors["form"] = str(font)
    if errors:
        return _page(request, errors, values, 400)
    return see_other(f"/me/certificates/{cert.certificate_no}.pdf")


def _unprintable(missing: list[str]) -> str:
    return (
        f"证明中有平台字体无法打印的字符（{'、'.join(missing)}），暂时不能出具电子证明。"
        "请联系登记机关出具纸质证明，或请系统管理员安装包含这些字符的字体。"
    )


def _form_field(me: Subject, name: str) -> str:
    """The form field beside which a refusal is shown."""
    if me.kind == "person":
        return "scope" if name in ("organisation", "volunteer_no") else name
    return "volunteer_no" if name in ("organisation", "volunteer_no") else name


def _message(me: Subject, refused: CertificateRefused) -> str:
    """An organisation learns nothing about volunteers without its records: an unknown number
    and a volunteer with no records of its own get the same answer."""
    if me.kind == "organisation" and refused.field in ("organisation", "volunteer_no"):
        return "该志愿者在本组织没有可证明的服务记录（请核对志愿者编号和服务期间）"
    return str(refused)


@subject
async def download(request: Request) -> Response:
    """The certificate PDF, for the volunteer it is about and the organisation that issued it;
    404 for anyone else (CQ-17, PUB-1). A revoked or superseded one is not printed again."""
    portal, _v = signed_in(request)
    me = own_subject(request)
    number = canonical_number(request.path_params["no"])
    with portal.store.read() as conn:
        cert = certificates.get(conn, number, portal.today()) if number else None
    if me is None or cert is None or not _may_download(me, cert):
        return error_page(request, 404, NOT_FOUND)
    if cert.status != "valid":
        return error_page(
            request, 404, f"证明 {cert.certificate_no} {STATUS_LABELS[cert.status]}，不能再下载。"
        )
    url = verify_url(portal.settings, cert)
    try:
        pdf = await run_in_threadpool(certificate_pdf.render, cert, url)
    except certificate_pdf.FontMissing as missing:
        log.error("certificate PDF: %s", missing)
        return error_page(request, 500, str(missing))
    name = f"volcredit-certificate-{cert.certificate_no}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@staff(ROLE)
async def staff_lookup(request: Request) -> Response:
    """A certificate by number (``?no=``), as verification shows it, with the revoke form."""
    return _staff_page(request, request.query_params.get("no", ""))


def _staff_page(
    request: Request,
    typed: str,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    portal = portal_of(request)
    errors = dict(errors or {})
    view = None
    if typed.strip():
        number = canonical_number(typed)
        with portal.store.read() as conn:
            cert = certificates.get(conn, number, portal.today()) if number else None
        if cert is None:
            errors.setdefault("no", NOT_FOUND)
            status = 400 if status == 200 else status
        else:
            view = certificates.public_view(cert)
    context = {
        "view": view,
        "errors": errors,
        "values": {"no": typed.strip()[:64], **(values or {})},
        "done": request.query_params.get("done") == "1",
        "status_labels": STATUS_LABELS,
    }
    return render(request, "certificate_staff.html", context, status)


@staff(ROLE)
async def staff_revoke(request: Request) -> Response:
    """Revoke a valid certificate with a reason; the reason shows on its verification page."""
    portal, v = signed_in(request)
    form = await form_of(request)
    typed = request.path_params["no"]
    number = canonical_number(typed)
    reason = field(form, "reason")
    if number is None:
        return error_page(request, 404, NOT_FOUND)
    try:
        with portal.store.write() as conn:
            certificates.revoke(
                conn,
                number,
                reason,
                portal.today(),
                f"portal:{v.account.account_id}",
                "portal",
                portal.now(),
            )
    except CertificateRefused as refused:
        name = "no" if refused.field == "certificate_no" else refused.field
        return _staff_page(request, number, {name: str(refused)}, {"reason": reason}, 400)
    return see_other(f"/staff/certificates?no={quote(number)}&done=1")


def _verify_form(
    request: Request, errors: dict[str, str], values: dict[str, str], status: int
) -> Response:
    response = render(
        request, "certificate_verify_form.html", {"errors": errors, "values": values}, status
    )
    response.headers["cache-control"] = "no-store"
    return response


@public
async def verify_form(request: Request) -> Response:
    """The number and the code typed into the form (``?no=&code=``) go to the verification page."""
    typed = request.query_params.get("no", "")
    code = certificates.normalise_code(request.query_params.get("code", ""))
    if not typed.strip() and not code:
        return render(request, "certificate_verify_form.html", {})
    values = {"no": typed.strip()[:64], "code": code}
    number = canonical_number(typed)
    if number is None:
        errors = {"no": "证明编号格式不对，应为 4 位年份和 12 位字母数字，如 2026-XXXX-XXXX-XXXX"}
        return _verify_form(request, errors, values, 400)
    if not code:
        return _verify_form(request, {"code": NO_CODE}, {**values, "no": number}, 400)
    return see_other(f"/verify/{number}?code={quote(code)}")


@public
async def verify(request: Request) -> Response:
    """CQ-17, HN-2: anyone holding a certificate checks it here with its number and code: its
    status on today (valid, revoked with the reason and date, or superseded) and the public view
    of its fields; nothing personal beyond the masked name (PUB-1). Without the right code it
    shows only the form (an unknown number answers like a wrong code), and wrong codes are
    throttled per client address."""
    portal = portal_of(request)
    typed = request.path_params["certificate_no"]
    if _STATIC_KEY.fullmatch(typed):  # a static page's address typed without its slash
        return see_other(f"/verify/{typed}/")
    number = canonical_number(typed)
    code = certificates.normalise_code(request.query_params.get("code", ""))
    if number is None:
        return _verify_form(request, {"no": NOT_FOUND}, {"no": typed[:64], "code": code}, 404)
    if number != typed:
        return see_other(f"/verify/{number}" + (f"?code={quote(code)}" if code else ""))
    values = {"no": number, "code": code}
    if not code:
        return _verify_form(request, {"code": NO_CODE}, values, 200)
    keys = [f"verify:ip:{client_address(request)[:100]}"]
    now = portal.now()
    with portal.store.write() as conn:
        if throttle.blocked(conn, keys, now):
            return _verify_form(request, {"code": TOO_MANY}, values, 429)
        cert = certificates.get(conn, number, portal.today())
        right = cert is not None and secrets.compare_digest(code, cert.verification_code)
        if not right:
            throttle.record_try(conn, keys, now)
    if cert is None or not right:
        return _verify_form(request, {"code": WRONG_CODE}, values, 404)
    context = {
        "view": certificates.public_view(cert),
        "status_labels": STATUS_LABELS,
        "today": portal.today(),
    }
    response = render(request, "certificate_verify.html", context)
    response.headers["cache-control"] = (
        "no-store"  # a revocation shows at once; the code stays private
    )
    return response
