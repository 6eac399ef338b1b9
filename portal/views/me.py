"""Self-query (BJ-14b, CQ-6–13): everything held about me, the full ID number after the
password, a request to delete a published honour (BJ-17b), and my access log (BJ-15)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from portal.context import portal_of, visitor
from portal.errors import error_page
from portal.forms import field, render, see_other
from portal.guards import subject
from portal.record import page_number, record_context
from volcredit import access_log, held
from volcredit.access_log import AccessEntry
from volcredit.store import history
from volcredit.store.history import NewEvent


def _me(request: Request) -> tuple[held.Subject | None, str]:
    portal = portal_of(request)
    v = visitor(request)
    assert v is not None and v.account.own is not None
    kind, key = v.account.own
    with portal.store.read() as conn:
        return held.find_subject(conn, kind, key), v.account.account_id


@subject
async def overview(request: Request) -> Response:
    portal = portal_of(request)
    me, _ = _me(request)
    if me is None:
        return error_page(request, 404, "登记信息中已没有您的记录，请联系登记机关。")
    with portal.store.read() as conn:
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
async def reveal_id(request: Request) -> Response:
    """The full ID number, after the password again; the view is logged (BJ-15)."""
    portal = portal_of(request)
    v = visitor(request)
    assert v is not None
    me, account_id = _me(request)
    form = await request.form()
    if me is None:
        return error_page(request, 404, "登记信息中已没有您的记录。")
    ok = await run_in_threadpool(
        portal.passwords.verify, v.account.password_hash, field(form, "password")
    )
    if not ok:
        return render(request, "reveal.html", {"errors": {"password": "密码不正确"}}, 400)
    with portal.store.write() as conn:
        basic = held.basic_info(conn, me)
        access_log.record(
            conn,
            AccessEntry(
                account_id, v.account.display_name, me.kind, me.key, "self", "本人", "完整证件号码"
            ),
            portal.now(),
        )
    number = basic.get("id_number") if me.kind == "person" else None
    return render(request, "reveal.html", {"number": number, "subject": me})


@subject
async def reveal_form(request: Request) -> Response:
    return render(request, "reveal.html", {})


@subject
async def request_deletion(request: Request) -> Response:
    """BJ-17b: a person asks for a published honour to be deleted; the next build drops it."""
    portal = portal_of(request)
    v = visitor(request)
    assert v is not None
    me, _ = _me(request)
    honour_id = request.path_params["honour_id"]
    today = portal.today()
    with portal.store.write() as conn:
        mine = {h.row["honour_id"]: h for h in held.honours(conn, me, today)} if me else {}
        honour = mine.get(honour_id)
        if me is None or me.kind != "person" or honour is None:
            return error_page(request, 404, "没有这项荣誉记录。")
        if honour.deletion_requested_on is None:
            history.append(
                conn,
                [
                    NewEvent(
                        honour_id,
                        "deletion_requested",
                        today,
                        f"portal:{v.account.account_id}",
                        "portal",
                        "本人在门户申请删除已公开的良好信息（BJ-17b）",
                    )
                ],
                portal.now(),
            )
    return see_other("/me#honours")


@subject
async def my_access_log(request: Request) -> Response:
    portal = portal_of(request)
    me, _ = _me(request)
    if me is None:
        return error_page(request, 404, "登记信息中已没有您的记录。")
    before = request.query_params.get("before")
    with portal.store.read() as conn:
        entries = access_log.about(
            conn, me.kind, me.key, before=int(before) if before and before.isdigit() else None
        )
    return render(request, "access_log.html", {"entries": entries, "subject": me})
