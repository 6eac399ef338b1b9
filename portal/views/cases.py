"""A bad-info case online (BJ-16, BJ-17a, BJ-18): the subject reads the notice, files a
statement, objects to published info, applies for repair and follows each step; staff record
notices, statements received, decisions, answers and repair decisions. Both sides see the same
state, history, deadline and written documents; every step is a history event (BJ-23).

Routes: ``/me/cases/{case_id}`` for the subject and ``/staff/cases/{case_id}`` for staff, each
with ``/steps/{event}`` (POST), ``/documents/{seq}`` (HTML), ``/documents/{seq}.pdf`` and
``/files/{file_id}``. Staff views are logged in the subject's access log with the case as the
duty reference (BJ-23, BJ-15).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from portal import case_document_pdf
from portal.context import own_subject, signed_in
from portal.errors import error_page
from portal.forms import render, see_other
from portal.guards import staff, subject
from portal.security import MAX_FILES
from portal.views.identification import actor_name, actor_of
from volcredit import access_log, case_actions, held
from volcredit.access_log import AccessEntry
from volcredit.case_actions import CaseRecord, StepRefused
from volcredit.case_documents import Document, document_of
from volcredit.case_steps import MAX_FILE_BYTES, STEPS, Upload

log = logging.getLogger(__name__)
NOT_FOUND = "没有这个案件。"
OFFICER = "case_officer"
READERS = (OFFICER, "auditor")
MAX_UPLOADS = MAX_FILES


@dataclass(frozen=True)
class Side:
    """Whose view: the subject's own (``/me``) or staff (``/staff``)."""

    base: str
    by_subject: bool


ME, STAFF = Side("/me/cases", True), Side("/staff/cases", False)


def _case(request: Request, side: Side, write_log: bool = False) -> tuple[CaseRecord, Any] | None:
    """The case in the path with its subject, if this visitor may see it; staff views logged."""
    portal, v = signed_in(request)
    case_id = request.path_params["case_id"]
    me = own_subject(request) if side.by_subject else None
    with portal.store.write() if write_log else portal.store.read() as conn:
        found = case_actions.load(conn, case_id, portal.today(), portal.settings.publicity)
        if found is None:
            return None
        p = found.penalty
        if side.by_subject and (
            me is None or (me.kind, me.key) != (p["subject_kind"], p["subject"])
        ):
            return None
        who = held.find_subject(conn, p["subject_kind"], p["subject"])
        if write_log:
            entry = AccessEntry(
                v.account.account_id,
                v.account.display_name,
                p["subject_kind"],
                p["subject"],
                "duty",
                case_id,
                f"不良信息案件 {case_id}：{request.url.path.rsplit('/', 1)[-1]}",
            )
            access_log.record(conn, entry, portal.now())
    return found, who


def _who_acted(request: Request, found: CaseRecord, side: Side) -> dict[str, str]:
    """Each actor of the case's history as this side may see it: the subject sees "本人" or
    "登记机关"; staff see the account's name."""
    portal, _v = signed_in(request)
    names: dict[str, str] = {}
    cache: dict[str, str] = {}
    with portal.store.read() as conn:
        for e in found.entries:
            if e.actor in names:
                continue
            if side.by_subject:
                names[e.actor] = "本人" if e.actor == actor_of(request) else "登记机关"
            else:
                names[e.actor] = actor_name(conn, e.actor, cache)
    return names


def _timeline(found: CaseRecord, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for e in found.entries:
        step = STEPS.get(e.event)
        rows.append(
            {
                "seq": e.seq,
                "date": e.date,
                "label": step.label if step else e.event,
                "rule": step.rule if step else "",
                "by": names.get(e.actor, e.actor),
                "texts": [
                    (t.label, (e.payload or {}).get("texts", {}).get(t.name))
                    for t in (step.texts if step else ())
                    if (e.payload or {}).get("texts", {}).get(t.name)
                ],
                "document": step.document if step and step.document else None,
                "files": found.files.get(e.seq, []),
            }
        )
    return rows


def _page(
    request: Request,
    side: Side,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> Response:
    portal, v = signed_in(request)
    seen = _case(request, side, write_log=not side.by_subject)
    if seen is None:
        return error_page(request, 404, NOT_FOUND)
    found, who = seen
    today = portal.today()
    steps = case_actions.open_steps(
        found, today, portal.settings.publicity, by_subject=side.by_subject
    )
    may_act = side.by_subject or OFFICER in v.account.roles
    context = {
        "case": found,
        "p": found.penalty,
        "s": found.status,
        "who": who,
        "side": side,
        "steps": [(STEPS[e], why) for e, why in steps.items()] if may_act else [],
        "timeline": _timeline(found, _who_acted(request, found, side)),
        "today": today,
        "errors": errors or {},
        "values": values or {},
        "failed": failed,
    }
    return render(request, "case.html", context, status)


@subject
async def my_case(request: Request) -> Response:
    return _page(request, ME)


@staff(*READERS)
async def staff_case(request: Request) -> Response:
    return _page(request, STAFF)


def _text(form: FormData, name: str) -> str:
    """A text as typed, whole (the core says when it is too long, never cut silently), with
    the browser's CRLF line breaks counted as one character, as the textarea counted them."""
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


async def _uploads(form: FormData, event: str) -> list[Upload]:
    """The files given for the step's slots (empty file inputs skipped); read up to one byte
    over the limit, so an oversized file is refused by the core without being read whole."""
    found: list[Upload] = []
    for slot in STEPS[event].files:
        for part in form.getlist(slot.kind):
            if not isinstance(part, UploadFile) or not part.filename:
                continue
            data = await part.read(MAX_FILE_BYTES + 1)
            found.append(Upload(slot.kind, part.filename, data))
    return found


async def _take_step(request: Request, side: Side) -> Response:
    portal, _v = signed_in(request)
    case_id, event = request.path_params["case_id"], request.path_params["event"]
    step = STEPS.get(event)
    if step is None or (side.by_subject and not step.by_subject):
        return error_page(request, 404, "没有这个步骤。")
    async with request.form(max_files=MAX_UPLOADS) as form:
        texts = {t.name: _text(form, t.name) for t in step.texts}
        uploads = await _uploads(form, event)
    me = own_subject(request) if side.by_subject else None
    if side.by_subject and me is None:
        return error_page(request, 404, NOT_FOUND)
    actor = actor_of(request)
    try:
        with portal.store.write() as conn:
            case_actions.record(
                conn,
                case_id,
                event,
                today=portal.today(),
                actor=actor,
                source="portal",
                now=portal.now(),
                periods=portal.settings.publicity,
                texts=texts,
                uploads=uploads,
                subject=(me.kind, me.key) if me else None,
            )
    except StepRefused as refused:
        if not refused.fields and str(refused).startswith("没有这个不良信息案件"):
            return error_page(request, 404, NOT_FOUND)
        errors = dict(refused.fields) or {"step": f"{refused}（{refused.rule}）"}
        return _page(request, side, errors, texts, event, 400)
    return see_other(f"{side.base}/{quote(case_id)}#history")


@subject
async def my_step(request: Request) -> Response:
    return await _take_step(request, ME)


@staff(OFFICER)
async def staff_step(request: Request) -> Response:
    return await _take_step(request, STAFF)


def _document(request: Request, side: Side) -> tuple[Document, CaseRecord] | None:
    portal, _v = signed_in(request)
    seen = _case(request, side, write_log=not side.by_subject)
    if seen is None:
        return None
    found, who = seen
    seq = request.path_params["seq"]
    name = who.name if who else found.penalty["subject"]
    doc = document_of(found, seq, name, portal.settings.publicity)
    return None if doc is None else (doc, found)


async def _document_html(request: Request, side: Side) -> Response:
    got = _document(request, side)
    if got is None:
        return error_page(request, 404, "没有这份文书。")
    doc, found = got
    return render(request, "case_document.html", {"doc": doc, "case": found, "side": side})


async def _document_pdf(request: Request, side: Side) -> Response:
    got = _document(request, side)
    if got is None:
        return error_page(request, 404, "没有这份文书。")
    doc, _found = got
    try:
        pdf = await run_in_threadpool(case_document_pdf.render, doc)
    except case_document_pdf.FontMissing as missing:
        log.error("case document PDF: %s", missing)
        return error_page(request, 500, str(missing))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="volcredit-{doc.number}.pdf"'},
    )


@subject
async def my_document(request: Request) -> Response:
    return await _document_html(request, ME)


@subject
async def my_document_pdf(request: Request) -> Response:
    return await _document_pdf(request, ME)


@staff(*READERS)
async def staff_document(request: Request) -> Response:
    return await _document_html(request, STAFF)


@staff(*READERS)
async def staff_document_pdf(request: Request) -> Response:
    return await _document_pdf(request, STAFF)


async def _file(request: Request, side: Side) -> Response:
    portal, _v = signed_in(request)
    seen = _case(request, side, write_log=not side.by_subject)
    if seen is None:
        return error_page(request, 404, "没有这个文件。")
    with portal.store.read() as conn:
        got = case_actions.file_of(
            conn, request.path_params["case_id"], request.path_params["file_id"]
        )
    if got is None:
        return error_page(request, 404, "没有这个文件。")
    name, media_type, data = got
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(media_type, "bin")
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(_named(name, ext))}"},
    )


@subject
async def my_file(request: Request) -> Response:
    return await _file(request, ME)


@staff(*READERS)
async def staff_file(request: Request) -> Response:
    return await _file(request, STAFF)


def _named(name: str, ext: str) -> str:
    """The download name: as filed, with the extension its bytes were found to have."""
    return name if name.lower().endswith(f".{ext}") else f"{name}.{ext}"
