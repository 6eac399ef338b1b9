"""Self-query (BJ-14b, CQ-6–13): everything held about me, the full ID number after the
password, a request to delete a published honour (BJ-17b), and my access log (BJ-15)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.context import own_subject, signed_in
from portal.errors import error_page
from portal.forms import before_param, field, form_of, render, see_other
from portal.guards import subject
from portal.record import page_number, record_context
from portal.views.auth import password_again
from volcredit import access_log, held
from volcredit.access_log import AccessEntry
from volcredit.store import history
from volcredit.store.history import NewEvent

GONE = "登记信息中已没有您的记录，请联系登记机关。"


@subject
async def overview(request: Request) -> Response:
    portal, v = signed_in(request)
    with portal.store.read() as conn:  # one transaction for the whole page
        me = held.find_subject(conn, *v.account.own) if v.account.own else None
        if me is None:
            return error_page(request, 404, GONE)
        ctx = record_context(
            conn,
            me,
            held.classes_for(me.kind),
            portal.today(),
            portal.settings.publicity,
            page_number(request.query_params.get("page")),
        )
    return render(request, "me.html", {"rec": ctx})


@subject
async def reveal_form(request: Request) -> Response:
    return render(request, "reveal.html", {})


@subject
async def reveal_id(request: Request) -> Response:
    """The full ID number, after the password again; the view is logged (BJ-15)."""
    portal, v = signed_in(request)
    me = own_subject(request)
    form = await form_of(request)
    if me is None:
        return error_page(request, 404, GONE)
    wrong = await password_again(request, field(form, "password"))
    if wrong:
        return render(request, "reveal.html", {"errors": {"password": wrong}}, 400)
    with portal.store.write() as conn:
        basic = held.basic_info(conn, me)
        entry = AccessEntry(
            v.account.account_id,
            v.account.display_name,
            me.kind,
            me.key,
            "self",
            "本人",
            "完整证件号码",
        )
        access_log.record(conn, entry, portal.now())
    number = basic.get("id_number") if me.kind == "person" else None
    return render(request, "reveal.html", {"number": number, "subject": me})


@subject
async def request_deletion(request: Request) -> Response:
    """BJ-17b: a person asks for a published honour to be deleted; the next build drops it."""
    portal, v = signed_in(request)
    me = own_subject(request)
    honour_id = request.path_params["honour_id"]
    today = portal.today()
    with portal.store.write() as conn:
        mine = {h.row["honour_id"]: h for h in held.honours(conn, me, today)} if me else {}
        honour = mine.get(honour_id)
        if me is None or me.kind != "person" or honour is None:
            return error_page(request, 404, "没有这项荣誉记录。")
        if honour.deletion_requested_on is None:
            event = NewEvent(
                honour_id,
                "deletion_requested",
                today,
                f"portal:{v.account.account_id}",
                "portal",
                "本人在门户申请删除已公开的良好信息（BJ-17b）",
            )
            history.append(conn, [event], portal.now())
    return see_other("/me#honours")


@subject
async def my_access_log(request: Request) -> Response:
    portal, _v = signed_in(request)
    me = own_subject(request)
    if me is None:
        return error_page(request, 404, GONE)
    with portal.store.read() as conn:
        entries = access_log.about(conn, me.kind, me.key, before=before_param(request))
    return render(request, "access_log.html", {"entries": entries, "subject": me})
