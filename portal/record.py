"""The record page's content, built once for the three audiences: the subject (BJ-14b), a
consented recipient (BJ-14c) and staff on duty (BJ-23) -- each gets only the classes allowed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request

from portal.context import signed_in
from volcredit import access_log, held
from volcredit.access_log import AccessEntry
from volcredit.held import InfoClass, Subject
from volcredit.rules.stars import time_bank_balance
from volcredit.settings import PublicityPeriods

RECORDS_PAGE = 50


def record_context(
    conn: Connection,
    subject: Subject,
    classes: Iterable[InfoClass],
    today: date,
    periods: PublicityPeriods,
    records_page: int = 1,
    basic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Template context for ``partials/record`` with only ``classes`` filled in; ``basic`` is
    the subject's :func:`held.basic_info` on ``today`` if the caller has read it already."""
    shown = set(classes)
    ctx: dict[str, Any] = {"subject": subject, "classes": [c for c in InfoClass if c in shown]}
    if InfoClass.BASIC in shown:
        ctx["basic"] = basic if basic is not None else held.basic_info(conn, subject, today)
    if subject.kind == "person" and InfoClass.SERVICE in shown:
        page = max(records_page, 1)
        ctx["hours"], ctx["star_history"] = held.service_standing(conn, subject.key, today)
        ctx["time_bank"] = time_bank_balance(ctx["hours"].stars.qualifying_hours)
        ctx["records"] = held.service_records(
            conn, subject.key, (page - 1) * RECORDS_PAGE, RECORDS_PAGE
        )
        ctx["records_page"] = page
        ctx["records_pages"] = max(1, -(-ctx["hours"].records // RECORDS_PAGE))
    # The classes with no rows about the subject are not read: an empty list either way.
    has = held.classes_with_rows(conn, subject) if shown & held.PROBED_CLASSES else frozenset()
    if subject.kind == "person" and InfoClass.TRAINING in shown:
        ctx["trainings"] = held.trainings(conn, subject.key) if InfoClass.TRAINING in has else []
    if InfoClass.HONOURS in shown:
        ctx["honours"] = held.honours(conn, subject, today) if InfoClass.HONOURS in has else []
    if InfoClass.COMPLAINTS in shown:
        ctx["complaints"] = held.complaints(conn, subject) if InfoClass.COMPLAINTS in has else []
    if InfoClass.CASES in shown:
        ctx["cases"] = (
            held.credit_cases(conn, subject, today, periods) if InfoClass.CASES in has else []
        )
    if InfoClass.OTHER in shown:
        ctx["other"] = held.other_info(conn, subject) if InfoClass.OTHER in has else []
    return ctx


@dataclass(frozen=True)
class Authority:
    """Why a third party may see a record: ``kind`` consent|duty, the consent ID or duty
    reference, and how the viewer is labelled in the subject's access log."""

    kind: str
    reference: str
    viewer_label: str


def logged_record(
    request: Request, found: Subject, classes: list[InfoClass], authority: Authority
) -> dict[str, Any]:
    """The record context for a consented recipient or staff on duty, with the view appended
    to the access log in the same transaction (BJ-14c, BJ-23, BJ-15)."""
    portal, v = signed_in(request)
    with portal.store.write() as conn:
        ctx = record_context(
            conn,
            found,
            classes,
            portal.today(),
            portal.settings.publicity,
            page_number(request.query_params.get("page")),
        )
        what = "全部信息" if set(classes) == set(held.classes_for(found.kind)) else None
        entry = AccessEntry(
            v.account.account_id,
            f"{v.account.display_name}（{authority.viewer_label}）",
            found.kind,
            found.key,
            authority.kind,
            authority.reference,
            what or "、".join(c.label for c in classes),
        )
        access_log.record(conn, entry, portal.now())
    return ctx


def page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or "1"), 1_000_000))
    except ValueError:
        return 1
