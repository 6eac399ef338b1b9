"""Self-query (BJ-14b, CQ-6–13): everything held about me, the full ID number after the
password, a request to delete a published honour (BJ-17b), my access log (BJ-15), and an
organisation's request to be identified as a volunteer-service organisation (HN-1b)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.context import own_subject, signed_in
from portal.errors import error_page
from portal.forms import before_param, field, form_of, render, see_other
from portal.guards import subject
from portal.record import page_number, record_context
from portal.views.auth import password_again
from volcredit import access_log, good_info, held, identification
from volcredit.access_log import AccessEntry
from volcredit.rules import identification as identification_rule

GONE = "登记信息中已没有您的记录，请联系登记机关。"


@subject
async def overview(request: Request) -> Response:
    return _overview(request)


def _overview(
    request: Request, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    portal, v = signed_in(request)
    today = portal.today()
    with portal.store.read() as conn:  # one transaction for the whole page
        found = held.find_with_basic(conn, *v.account.own, today) if v.account.own else None
        if found is None:
            return error_page(request, 404, GONE)
        me, basic = found
        ctx = record_context(
            conn,
            me,
            held.classes_for(me.kind),
            today,
            portal.settings.publicity,
            page_number(request.query_params.get("page")),
            basic,
        )
        ident, last = None, None
        if me.kind == "organisation":  # HN-1b: its identification and its last decision
            ident = identification.organisation(conn, me.key, today)
            last = (identification.decisions(conn, today, me.key).get(me.key) or [None])[-1]
    context = {
        "rec": ctx,
        "ident": ident,
        "last_refused": last.date if last and last.event == identification_rule.REFUSED else None,
        "today": today,
        "errors": errors or {},
    }
    return render(request, "me.html", context, status)


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
        basic = held.basic_info(conn, me, portal.today())
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
    if me is None or me.kind != "person":
        return error_page(request, 404, "没有这项荣誉记录。")
    try:
        with portal.store.write() as conn:
            good_info.request_deletion(
                conn,
                honour_id,
                today=portal.today(),
                actor=f"portal:{v.account.account_id}",
                source="portal",
                now=portal.now(),
                note="本人在门户申请删除已公开的良好信息（BJ-17b）",
                person=me.key,
            )
    except good_info.DeletionRefused as refused:
        if refused.field == "ref":
            return error_page(request, 404, "没有这项荣誉记录。")
        if refused.already:  # asked twice: the first request stands
            return see_other("/me#honours")
        return _overview(request, {"honours": f"{refused}（BJ-17b）"}, 400)
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


@subject
async def request_identification(request: Request) -> Response:
    """HN-1b: an organisation asks to be identified; staff verify its charter first."""
    portal, v = signed_in(request)
    me = own_subject(request)
    if me is None:
        return error_page(request, 404, GONE)
    if me.kind != "organisation":
        return error_page(request, 403, "只有组织可以申请认定为志愿服务组织（HN-1b）。")
    try:
        with portal.store.write() as conn:
            identification.record(
                conn,
                me.key,
                identification_rule.REQUESTED,
                portal.today(),
                f"portal:{v.account.account_id}",
                "portal",
                portal.now(),
                note="组织在门户申请认定为志愿服务组织（HN-1b）",
            )
    except identification.DecisionRefused as refused:
        return _overview(request, {"identification": f"{refused.rule}：{refused}"}, 400)
    return see_other("/me#identification")
