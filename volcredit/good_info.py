"""Deleting published good info on the person's request (BJ-17b): one check, used by the
loader for migrated requests, the portal and ``volcredit record-events``; the request is a
history event on the honour and the next build leaves the honour out."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select

from volcredit.store import history
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

DELETION = "deletion_requested"
honours = content_tables["honours"]


class DeletionRefused(ValueError):
    """A deletion request BJ-17b does not allow, with the form field at fault."""

    def __init__(self, field: str, message: str, already: bool = False) -> None:
        self.field = field
        self.rule = "BJ-17b"
        self.already = already  # the honour's deletion was requested before
        super().__init__(message)


def deletion_problem(
    subject_kind: str, awarded_on: date | None, already_requested: bool, day: date
) -> tuple[str, str] | None:
    """Why a deletion request on ``day`` cannot be recorded, as (field, message), or ``None``."""
    if subject_kind != "person":
        return "event", "只有个人可以要求删除其良好信息"
    if awarded_on is not None and day < awarded_on:
        return "date", "删除请求早于荣誉授予日期"
    if already_requested:
        return "event", "这项荣誉已经要求删除过"
    return None


def requested(conn: Connection, honour_id: str) -> bool:
    query = select(history_table.c.seq).where(
        history_table.c.ref == honour_id, history_table.c.event == DELETION
    )
    return conn.execute(query.limit(1)).first() is not None


def request_deletion(
    conn: Connection,
    honour_id: str,
    *,
    today: date,
    actor: str,
    source: str,
    now: datetime,
    note: str,
    person: str | None = None,
) -> history.Entry:
    """Append the request (inside the caller's write transaction, under the history lock);
    ``person`` (a volunteer number) when the person asks in the portal: only their own honour."""
    history.lock(conn)
    row = conn.execute(select(honours).where(honours.c.honour_id == honour_id)).first()
    if row is None or (person is not None and row.subject != person):
        raise DeletionRefused("ref", f"没有这个荣誉：{honour_id}")
    already = requested(conn, honour_id)
    problem = deletion_problem(row.subject_kind, row.awarded_on, already, today)
    if problem is not None:
        raise DeletionRefused(*problem, already=already)
    event = history.NewEvent(honour_id, DELETION, today, actor, source, note)
    return history.append(conn, [event], now)[0]
