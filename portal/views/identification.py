"""Identification staff pages (HN-1a–c): the open requests, one organisation's identification
and its decision history, and the decisions a registry officer records. Every decision goes
through ``volcredit.identification.record``; the rule's refusal is shown beside the form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from portal import accounts
from portal.context import portal_of, signed_in
from portal.errors import error_page
from portal.forms import field, form_of, render, see_other
from portal.guards import staff
from volcredit import identification
from volcredit import publication as pub
from volcredit.rules import identification as rule
from volcredit.store import history

ROLE = "registry_officer"
USCC = re.compile(r"[0-9ABCDEFGHJKLMNPQRTUWXY]{18}")  # GB 32100 alphabet
NOTE_MAX = 200
EVENT_LABELS = {
    rule.REQUESTED: "组织申请认定（HN-1b）",
    rule.IDENTIFIED_DIRECT: "直接认定（HN-1a）",
    rule.IDENTIFIED_ON_REQUEST: "依申请认定（HN-1b）",
    rule.REFUSED: "不予认定（HN-1b）",
    rule.REMOVED: "撤销认定（HN-1c）",
}
ANNOUNCED = "下次网站构建（volcredit build）时将在组织名录中公布，并列入该地区的年度认定公告。"


@dataclass(frozen=True)
class DecisionForm:
    """One decision form: its event, its charter checkbox and its text field."""

    event: str
    charter: str | None  # the checkbox field, or None
    # What a ticked box tells ``record`` about the charter's volunteer-service purpose: True or
    # False for what the officer verified (HN-1b, HN-1c), None to keep the registered charter
    # (HN-1a: the box only confirms it, and ``unticked`` is then the page's own message).
    ticked_means: bool | None
    note: str  # the text field (a reference or a reason)
    note_label: str  # how the text is labelled in the history note
    done: str  # the confirmation after a successful decision
    note_required: bool = True
    unticked: str | None = None


FORMS = {
    "direct": DecisionForm(
        rule.IDENTIFIED_DIRECT,
        "direct_charter",
        None,
        "direct_ref",
        "依据",
        "已直接认定为志愿服务组织（HN-1a）。" + ANNOUNCED,
        note_required=False,
        unticked="请确认章程以开展志愿服务为宗旨（HN-1a）",
    ),
    "on_request": DecisionForm(
        rule.IDENTIFIED_ON_REQUEST,
        "request_charter",
        True,
        "request_ref",
        "章程核准文号",
        "已依申请认定为志愿服务组织（HN-1b），申请已办结。" + ANNOUNCED,
    ),
    "refuse": DecisionForm(
        rule.REFUSED,
        None,
        None,
        "refuse_reason",
        "不予认定理由",
        "已记录不予认定（HN-1b），申请已办结。请书面告知申请组织理由。",
    ),
    "remove": DecisionForm(
        rule.REMOVED,
        "remove_charter",
        False,
        "remove_ref",
        "修改后章程核准文号",
        "已撤销认定（HN-1c）。下次网站构建（volcredit build）时将发布撤销认定公告。",
    ),
}
NOTE_MISSING = {
    "request_ref": "请填写章程核准文号",
    "refuse_reason": "请填写不予认定的理由",
    "remove_ref": "请填写修改后章程的核准文号",
}


def clean_uscc(raw: str) -> str | None:
    """A USCC as typed (any case, spaces around), or None if it cannot be one."""
    value = raw.strip().upper()
    return value if USCC.fullmatch(value) else None


def with_rule(refused: identification.DecisionRefused) -> str:
    """The refusal's message led by the rule it applies (the message may cite another rule)."""
    return f"{refused.rule}：{refused}"


def actor_of(request: Request) -> str:
    """The history actor for the logged-in account (as the other portal events name it)."""
    _portal, v = signed_in(request)
    return f"portal:{v.account.account_id}"


def actor_name(conn: Connection, actor: str, cache: dict[str, str]) -> str:
    """A history actor for people: a portal account's name, else the actor as stored."""
    if actor not in cache:
        name = actor
        if actor.startswith("portal:"):
            found = accounts.by_id(conn, actor.removeprefix("portal:"))
            if found is not None:
                name = f"{found.display_name}（{accounts.KIND_LABELS.get(found.kind, '')}）"
        cache[actor] = name
    return cache[actor]


@staff(ROLE)
async def request_list(request: Request) -> Response:
    """Open HN-1b requests, oldest first, and a USCC lookup (``?uscc=``)."""
    portal = portal_of(request)
    today = portal.today()
    typed = request.query_params.get("uscc", "")
    errors: dict[str, str] = {}
    if typed.strip():
        uscc = clean_uscc(typed)
        if uscc is not None:
            with portal.store.read() as conn:
                found = identification.organisation(conn, uscc, today)
            if found is not None:
                return see_other(f"/staff/identification/{uscc}")
        errors["uscc"] = "没有找到这个统一社会信用代码的组织"
    with portal.store.read() as conn:
        regions = pub.regions(conn)
        pending = list(identification.pending_requests(conn, today))
        candidates = identification.direct_candidates(conn, today)
    rows = [
        {
            "org": org,
            "region": pub.region_name(regions, org.region),
            "waited": (today - org.identification.requested_on).days
            if org.identification.requested_on
            else 0,
        }
        for org in pending
    ]
    values = {"uscc": typed.strip()[:40]}
    context = {
        "rows": rows,
        "candidates": [(org, pub.region_name(regions, org.region)) for org in candidates],
        "today": today,
        "errors": errors,
        "values": values,
    }
    return render(request, "identification.html", context, 400 if errors else 200)


@staff(ROLE)
async def organisation_page(request: Request) -> Response:
    """One organisation: its identification on today, its decisions, the forms that apply."""
    uscc = clean_uscc(request.path_params["uscc"])
    done = FORMS.get(request.query_params.get("done", ""))
    return organisation_response(request, uscc, message=done.done if done else "")


def organisation_response(
    request: Request,
    uscc: str | None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
    shown: str | None = None,
) -> Response:
    """The organisation page; ``shown``: a form to show even if its state no longer offers it
    (the one just refused, with its error)."""
    portal = portal_of(request)
    today = portal.today()
    context: dict[str, Any] | None = None
    with portal.store.read() as conn:
        org = identification.organisation(conn, uscc, today) if uscc else None
        if org is not None:
            context = _organisation_context(conn, org, today)
    if context is None:
        return error_page(request, 404, "没有这个统一社会信用代码的组织。")
    if shown is not None and shown not in context["forms"]:
        context["forms"].append(shown)
    context.update(errors=errors or {}, values=values or {}, message=message)
    return render(request, "identification_org.html", context, status)


def _organisation_context(
    conn: Connection, org: identification.Organisation, today: date
) -> dict[str, Any]:
    state = org.identification
    names: dict[str, str] = {}
    entries = [e for e in history.entries(conn, org.uscc) if e.event in rule.EVENTS]
    decisions = [  # read whole first: the names are looked up on the same connection
        {
            "date": e.date,
            "label": EVENT_LABELS.get(e.event, e.event),
            "note": e.note or "",
            "actor": actor_name(conn, e.actor, names),
            "recorded_at": e.recorded_at,
        }
        for e in entries
    ]
    identified = state.identified(today)
    forms = []
    if identified:
        forms.append("remove")
    else:
        if rule.name_qualifies(org.name):
            forms.append("direct")
        if state.requested_on is not None:
            forms += ["on_request", "refuse"]
    return {
        "org": org,
        "state": state,
        "identified": identified,
        "waited": (today - state.requested_on).days if state.requested_on else None,
        "region": pub.region_name(pub.regions(conn), org.region),
        "decisions": decisions,
        "forms": forms,
        "name_qualifies": rule.name_qualifies(org.name),
        "today": today,
    }


@staff(ROLE)
async def decide(request: Request) -> Response:
    """Record one HN-1a–c decision; a refusal names the rule beside the form, records nothing."""
    portal = portal_of(request)
    uscc = clean_uscc(request.path_params["uscc"])
    form = await form_of(request)
    key = field(form, "decision")
    spec = FORMS.get(key)
    if uscc is None:
        return error_page(request, 404, "没有这个统一社会信用代码的组织。")
    if spec is None:
        return error_page(request, 400, "未知的认定事项。")
    ticked = bool(field(form, spec.charter)) if spec.charter else False
    note = " ".join(field(form, spec.note).split())
    values = {spec.note: note, **({spec.charter: "yes"} if spec.charter and ticked else {})}
    errors: dict[str, str] = {}
    if not note and spec.note_required:
        errors[spec.note] = NOTE_MISSING[spec.note]
    elif len(note) > NOTE_MAX:
        errors[spec.note] = f"不能超过 {NOTE_MAX} 个字"
    charter = None
    if spec.charter is not None:
        if ticked:
            charter = spec.ticked_means
        elif spec.unticked is not None:
            errors[spec.charter] = spec.unticked
        else:  # let the rule say why an unconfirmed charter cannot be decided on
            charter = not spec.ticked_means
    if not errors:
        try:
            with portal.store.write() as conn:
                identification.record(
                    conn,
                    uscc,
                    spec.event,
                    portal.today(),
                    actor_of(request),
                    "portal",
                    portal.now(),
                    charter_volunteer_purpose=charter,
                    note=f"{spec.note_label}：{note}" if note else None,
                )
        except identification.DecisionRefused as refused:
            # beside the unticked box when the charter was not confirmed, else above the form
            target = spec.charter if spec.charter and not ticked else key
            errors[target] = with_rule(refused)
    if errors:
        return organisation_response(request, uscc, errors, values, status=400, shown=key)
    return see_other(f"/staff/identification/{uscc}?done={key}")
