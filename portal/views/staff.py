"""Staff pages (BJ-23, BJ-15): duty lookups that state a reference and are logged, the case list
with deadlines, paper consents with their scans, and the auditor's view of the access log.
No page edits stored data or history."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from portal.accounts import ROLE_LABELS
from portal.context import portal_of, signed_in
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import staff
from portal.record import Authority, logged_record
from portal.views.consent import consent_request
from volcredit import access_log, consents, held
from volcredit.access_log import AccessEntry
from volcredit.case_steps import sniff
from volcredit.overview import cases
from volcredit.rules.access import LOOKUP_ROLES, STAFF_ROLES, duty_access, duty_reference_problem

SUBJECT_KINDS = {"person": "志愿者（志愿者编号）", "organisation": "组织（统一社会信用代码）"}


@staff(*STAFF_ROLES)
async def dashboard(request: Request) -> Response:
    return render(request, "staff.html", {"role_labels": ROLE_LABELS})


@staff(*LOOKUP_ROLES)
async def lookup_form(request: Request) -> Response:
    return render(request, "lookup.html", {"kinds": SUBJECT_KINDS})


@staff(*LOOKUP_ROLES)
async def lookup(request: Request) -> Response:
    portal, v = signed_in(request)
    form = await form_of(request)
    kind, key, ref = field(form, "kind"), field(form, "key").strip().upper(), field(form, "ref")
    errors = {}
    decision = duty_access(v.account.roles, ref)
    if not decision.allowed:
        errors["ref"] = decision.reason
    with portal.store.read() as conn:
        found = held.find_subject(conn, kind, key) if kind in SUBJECT_KINDS else None
    if found is None:
        errors["key"] = "没有找到这个志愿者编号或统一社会信用代码"
    if errors:
        values = {"kind": kind, "key": key, "ref": ref}
        return render(
            request,
            "lookup.html",
            {"kinds": SUBJECT_KINDS, "errors": errors, "values": values},
            400,
        )
    return see_other(f"/staff/subjects/{kind}/{quote(key)}?ref={quote(ref.strip())}")


@staff(*LOOKUP_ROLES)
async def subject_record(request: Request) -> Response:
    """A subject's whole record for duty; refused without a reference; every view logged."""
    portal, v = signed_in(request)
    ref = request.query_params.get("ref", "").strip()
    decision = duty_access(v.account.roles, ref)
    if not decision.allowed:
        return error_page(request, 403, f"{decision.reason}（BJ-23）")
    kind, key = request.path_params["kind"], request.path_params["key"]
    with portal.store.read() as conn:
        found = held.find_subject(conn, kind, key)
    if found is None:
        return error_page(request, 404, "没有这个主体。")
    classes = list(held.classes_for(found.kind))
    ctx = logged_record(request, found, classes, Authority("duty", ref, "工作人员"))
    return render(request, "staff_record.html", {"rec": ctx, "ref": ref})


@staff("case_officer", "auditor")
async def case_list(request: Request) -> Response:
    """Every case with its state and next deadline; overdue ones first (BJ-16–18)."""
    portal = portal_of(request)
    with portal.store.read() as conn:
        views = [v.as_json() for v in cases(conn, portal.today(), portal.settings.publicity)]
    views.sort(key=lambda r: (not r["overdue"], r["case_id"]))
    return render(request, "staff_cases.html", {"cases": views, "today": portal.today()})


@staff("records_officer")
async def paper_form(request: Request) -> Response:
    return render(request, "paper_consent.html", _paper_context())


def _paper_context() -> dict:
    return {
        "kinds": SUBJECT_KINDS,
        "class_choices": tuple(held.InfoClass),
        "recipient_kinds": consents.RECIPIENT_KINDS,
    }


@staff("records_officer")
async def record_paper(request: Request) -> Response:
    """A signed paper consent with its scan creates the same kind of consent (BJ-14c)."""
    async with request.form(max_files=1) as form:
        return await _record_paper(request, form)


async def _record_paper(request: Request, form: FormData) -> Response:
    portal, v = signed_in(request)
    kind, key = field(form, "kind"), field(form, "key").strip().upper()
    req = consent_request(form)
    today = portal.today()
    with portal.store.read() as conn:
        found = held.find_subject(conn, kind, key) if kind in SUBJECT_KINDS else None
    errors: dict[str, str] = {}
    valid = None
    if found is None:
        errors["key"] = "没有找到这个志愿者编号或统一社会信用代码"
    else:
        valid, errors = consents.validate_request(req, found, today)
    scan, problem = await _scan(form.get("scan"))
    if problem:
        errors["scan"] = problem
    if errors or valid is None or found is None or scan is None:
        values = {**req.__dict__, "classes": set(req.classes), "kind": kind, "key": key}
        context = {**_paper_context(), "errors": errors, "values": values}
        return render(request, "paper_consent.html", context, 400)
    with portal.store.write() as conn:
        row = consents.issue(
            conn,
            found,
            valid,
            today=today,
            now=portal.now(),
            source="paper",
            recorded_by=v.account.account_id,
            scan=scan,
        )
    return render(request, "paper_recorded.html", {"consent": row})


async def _scan(upload: object) -> tuple[consents.Scan | None, str | None]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, "请上传签字授权书的扫描件（PDF、JPEG 或 PNG）"
    data = await upload.read(consents.MAX_SCAN_BYTES + 1)
    if len(data) > consents.MAX_SCAN_BYTES:
        return None, "扫描件不能超过 5 MB"
    kind = sniff(data)
    if kind is None:
        return None, "扫描件须为 PDF、JPEG 或 PNG 文件"
    return consents.Scan(upload.filename[:200], kind, data), None


@staff("records_officer", "auditor")
async def consent_scan(request: Request) -> Response:
    """A signed paper consent's scan: a personal document, so a duty reference is required and
    the download is logged against the consent's subject (BJ-23, BJ-15)."""
    portal, v = signed_in(request)
    ref = request.query_params.get("ref", "").strip()
    problem = duty_reference_problem(ref)
    if problem:
        return error_page(request, 403, f"{problem}（BJ-23）")
    consent_id = request.path_params["consent_id"]
    with portal.store.write() as conn:
        found = consents.scan_of(conn, consent_id)
        row = consents.get(conn, consent_id)
        if found is None or row is None:
            return error_page(request, 404, "没有这份扫描件。")
        entry = AccessEntry(
            v.account.account_id,
            f"{v.account.display_name}（工作人员）",
            row["subject_kind"],
            row["subject"],
            "duty",
            ref,
            "纸质授权书扫描件",
        )
        access_log.record(conn, entry, portal.now())
    _name, content_type, data = found
    return Response(
        data,
        media_type=content_type,
        headers={"content-disposition": "attachment; filename=consent-scan"},
    )


@staff("auditor")
async def audit(request: Request) -> Response:
    """Who queried what (BJ-15): by staff member, and by subject."""
    portal = portal_of(request)
    actor = request.query_params.get("actor", "")
    kind = request.query_params.get("kind", "")
    key = request.query_params.get("subject", "").strip().upper()
    with portal.store.read() as conn:
        summary = access_log.staff_summary(conn)
        entries = []
        if actor:
            entries = access_log.by_actor(conn, actor, limit=500)
        elif kind and key:
            entries = access_log.about(conn, kind, key, limit=500)
    return render(
        request,
        "audit.html",
        {
            "summary": summary,
            "entries": entries,
            "kinds": SUBJECT_KINDS,
            "values": {"actor": actor, "kind": kind, "subject": key},
        },
    )
