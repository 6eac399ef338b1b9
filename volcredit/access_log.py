"""The access log (BJ-15, BJ-14c, BJ-23): who saw which subject's data, when, under what authority.

Append-only: the database refuses updates and deletes (migration 0002). Every view by a consented
recipient or by staff, and a subject's own view of their full ID number, is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from volcredit.store.portal_tables import access_log

AUTHORITY_LABELS = {
    "self": "本人查询",
    "consent": "书面授权",
    "duty": "依职责查询",
    "organisation": "服务组织出具记录证明",  # CQ-17: from its own records of the volunteer
}


@dataclass(frozen=True)
class AccessEntry:
    """One access to write: the actor, the subject, the authority and what was seen."""

    actor_account: str
    actor_label: str
    subject_kind: str
    subject: str
    authority: str  # self | consent | duty
    reference: str  # the consent ID or the duty reference
    what: str


def record(conn: Connection, entry: AccessEntry, at: datetime) -> None:
    """Append one access (inside the caller's write transaction); texts are cut to their
    columns' 200 characters."""
    values = {k: v[:200] if isinstance(v, str) else v for k, v in entry.__dict__.items()}
    conn.execute(insert(access_log).values(at=at, **values))


def _page(conn: Connection, where: list[Any], limit: int, before: int | None) -> list[dict]:
    if before is not None:
        where = [*where, access_log.c.seq < before]
    rows = conn.execute(
        select(access_log).where(*where).order_by(access_log.c.seq.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def about(
    conn: Connection, subject_kind: str, subject: str, limit: int = 100, before: int | None = None
) -> list[dict[str, Any]]:
    """Accesses to one subject's data, newest first (shown to the subject, and to auditors)."""
    where = [access_log.c.subject_kind == subject_kind, access_log.c.subject == subject]
    return _page(conn, where, limit, before)


def under_consent(conn: Connection, consent_id: str) -> list[dict[str, Any]]:
    """Every access made under one consent, newest first (BJ-14c: the subject sees each)."""
    where = [access_log.c.authority == "consent", access_log.c.reference == consent_id]
    rows = conn.execute(select(access_log).where(*where).order_by(access_log.c.seq.desc()))
    return [dict(r._mapping) for r in rows]


def by_actor(
    conn: Connection, actor_account: str, limit: int = 100, before: int | None = None
) -> list[dict[str, Any]]:
    """Accesses made by one account, newest first (auditor view, BJ-15)."""
    return _page(conn, [access_log.c.actor_account == actor_account], limit, before)


def staff_summary(conn: Connection) -> list[dict[str, Any]]:
    """Per staff account: how many duty queries and the latest one (auditor view, BJ-15)."""
    rows = conn.execute(
        select(
            access_log.c.actor_account,
            func.max(access_log.c.actor_label).label("actor_label"),
            func.count().label("queries"),
            func.max(access_log.c.at).label("latest"),
        )
        .where(access_log.c.authority == "duty")
        .group_by(access_log.c.actor_account)
        .order_by(func.count().desc())
    )
    return [dict(r._mapping) for r in rows]
