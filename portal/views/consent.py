"""Written consent (BJ-14c, CQ-15): the subject issues, prints and revokes; the named recipient,
logged in as themselves, redeems the code and sees only the consented classes; every view under
a consent is logged and shown to the subject (BJ-15)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portal import accounts
from portal.context import own_subject, portal_of, signed_in
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import subject
from portal.record import Authority, logged_record
from volcredit import access_log, consents, held
from volcredit.rules.access import consent_access


def consent_request(form: FormData) -> consents.ConsentRequest:
    """The consent fields of a form (the subject's own, or staff recording a paper one)."""
    return consents.ConsentRequest(
        field(form, "recipient_kind"),
        field(form, "recipient_name"),
        field(form, "recipient_id"),
        field(form, "purpose"),
        [v for v in form.getlist("classes") if isinstance(v, str)],
        field(form, "expires_on"),
    )


def _form_context(me: held.Subject) -> dict:
    return {
        "class_choices": held.classes_for(me.kind),
        "recipient_kinds": consents.RECIPIENT_KINDS,
    }


@subject
async def my_consents(request: Request) -> Response:
    portal = portal_of(request)
    me = own_subject(request)
    if me is None:
        return error_page(request, 404, "登记信息中已没有您的记录。")
    with portal.store.read() as conn:
        issued = consents.issued_by(conn, me)
    return render(
        request,
        "consents.html",
        {"issued": issued, "today": portal.today(), **_form_context(me)},
    )


@subject
async def issue_consent(request: Request) -> Response:
    portal = portal_of(request)
    me = own_subject(request)
    if me is None:
        return error_page(request, 404, "登记信息中已没有您的记录。")
    form = await form_of(request)
    req = consent_request(form)
    today = portal.today()
    valid, errors = consents.validate_request(req, me, today)
    if valid is None:
        with portal.store.read() as conn:
            issued = consents.issued_by(conn, me)
        values = {**req.__dict__, "classes": set(req.classes)}
        return render(
            request,
            "consents.html",
            {
                "issued": issued,
                "today": today,
                "errors": errors,
                "values": values,
                **_form_context(me),
            },
            400,
        )
    with portal.store.write() as conn:
        row = consents.issue(conn, me, valid, today=today, now=portal.now())
    return see_other(f"/me/consents/{row['consent_id']}")


def _own_consent(request: Request) -> tuple[held.Subject | None, dict | None]:
    portal = portal_of(request)
    me = own_subject(request)
    with portal.store.read() as conn:
        row = consents.get(conn, request.path_params["consent_id"])
    if me is None or row is None or (row["subject_kind"], row["subject"]) != (me.kind, me.key):
        return me, None
    return me, row


@subject
async def consent_document(request: Request) -> Response:
    """The printable consent document with its code, and every access made under it."""
    portal = portal_of(request)
    row = _own_consent(request)[1]
    if row is None:
        return error_page(request, 404, "没有这份授权书。")
    with portal.store.read() as conn:
        used = access_log.under_consent(conn, row["consent_id"])
    return render(
        request,
        "consent_document.html",
        {"consent": row, "classes": list(held.iter_classes(row["classes"])), "used": used},
    )


@subject
async def revoke_consent(request: Request) -> Response:
    """Revocation takes effect at once: the next request under the consent fails (BJ-14c)."""
    portal = portal_of(request)
    me, row = _own_consent(request)
    if row is None or me is None:
        return error_page(request, 404, "没有这份授权书。")
    with portal.store.write() as conn:
        consents.revoke(conn, row["consent_id"], me, portal.now())
    return see_other(f"/me/consents/{row['consent_id']}")


@subject
async def received(request: Request) -> Response:
    """Consents naming me as recipient, and the form to redeem a code."""
    portal, v = signed_in(request)
    with portal.store.read() as conn:
        ident = accounts.identity(conn, v.account)
        rows = consents.granted_to(conn, ident.kind, ident.key) if ident else []
    return render(request, "received.html", {"received": rows, "today": portal.today()})


@subject
async def redeem(request: Request) -> Response:
    portal, v = signed_in(request)
    form = await form_of(request)
    with portal.store.read() as conn:
        row = consents.by_code(conn, field(form, "code"))
        ident = accounts.identity(conn, v.account)
    if row is None:
        return render(
            request, "received.html", {"received": [], "errors": {"code": "授权码不存在"}}, 400
        )
    first = next(iter(held.iter_classes(row["classes"])))
    decision = consent_access(consents.facts(row), ident, first.value, portal.today(), portal.now())
    if not decision.allowed:
        return render(
            request, "received.html", {"received": [], "errors": {"code": decision.reason}}, 403
        )
    return see_other(f"/consents/{row['consent_id']}")


@subject
async def view_under_consent(request: Request) -> Response:
    """The subject's consented classes, decided afresh on every request and logged (BJ-14c)."""
    portal, v = signed_in(request)
    today, now = portal.today(), portal.now()
    with portal.store.read() as conn:
        row = consents.get(conn, request.path_params["consent_id"])
        ident = accounts.identity(conn, v.account)
    if row is None:
        return error_page(request, 404, "没有这份授权书。")
    fact = consents.facts(row)
    allowed = []
    reason = "该授权不是授予您的"
    for cls in held.iter_classes(row["classes"]):
        decision = consent_access(fact, ident, cls.value, today, now)
        if decision.allowed:
            allowed.append(cls)
        else:
            reason = decision.reason
    if not allowed:
        return error_page(request, 403, reason)
    with portal.store.read() as conn:
        found = held.find_subject(conn, row["subject_kind"], row["subject"])
    if found is None:
        return error_page(request, 404, "登记信息中已没有该主体的记录。")
    ctx = logged_record(
        request, found, allowed, Authority("consent", row["consent_id"], "被授权人")
    )
    return render(
        request,
        "consent_view.html",
        {"rec": ctx, "consent": row, "viewer": v.account.display_name},
    )
