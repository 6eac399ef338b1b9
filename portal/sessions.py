"""Server-side sessions in the store (ASVS 3): the cookie carries only a random token.

Only the token's SHA-256 is stored. A session ends on logout, on a password change (every
session of that account), after 30 idle minutes and after 12 hours in all. A fresh token is
issued at every login step, so a token seen before login is worth nothing after it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from portal.accounts import Account, account_from_row
from volcredit.store.portal_tables import accounts, sessions

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_AFTER = timedelta(seconds=60)  # last_seen is written at most once a minute
_BY_HASH = select(sessions).where(sessions.c.token_hash == bindparam("digest"))
_WITH_ACCOUNT = (  # every request
    select(sessions, *(c for c in accounts.c if c.name not in sessions.c))
    .join(accounts, accounts.c.account_id == sessions.c.account_id)
    .where(sessions.c.token_hash == bindparam("digest"))
)


@dataclass(frozen=True)
class Session:
    token_hash: str
    account_id: str
    stage: str  # full | totp


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(conn: Connection, account_id: str, stage: str, now: datetime) -> str:
    """A new session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(sessions).values(
            token_hash=token_hash(token),
            account_id=account_id,
            stage=stage,
            created_at=now,
            last_seen_at=now,
            revoked_at=None,
        )
    )
    return token


def resolve(conn: Connection, token: str, now: datetime) -> tuple[Session | None, bool]:
    """The live session for ``token`` and whether its last-seen time is due to be written."""
    return _live(conn.execute(_BY_HASH, {"digest": token_hash(token)}).first(), now)


def resolve_with_account(
    conn: Connection, token: str, now: datetime
) -> tuple[Session, Account, bool] | None:
    """:func:`resolve` and the session's account in one query (every request): the live
    session, its account and whether the last-seen time is due; None if either is missing."""
    row = conn.execute(_WITH_ACCOUNT, {"digest": token_hash(token)}).first()
    session, due = _live(row, now)
    if session is None:
        return None
    return session, account_from_row(row), due


def _live(row: Any, now: datetime) -> tuple[Session | None, bool]:
    """The session in a ``sessions`` row if it is live on ``now``; whether a touch is due."""
    if row is None or row.revoked_at is not None:
        return None, False
    if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > ABSOLUTE_TIMEOUT:
        return None, False
    return Session(row.token_hash, row.account_id, row.stage), now - row.last_seen_at > TOUCH_AFTER


def touch(conn: Connection, digest: str, now: datetime) -> None:
    conn.execute(update(sessions).where(sessions.c.token_hash == digest).values(last_seen_at=now))


def revoke(conn: Connection, digest: str, now: datetime) -> None:
    conn.execute(
        update(sessions)
        .where(sessions.c.token_hash == digest, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(conn: Connection, account_id: str, now: datetime) -> None:
    """End every session of the account (after a password change)."""
    conn.execute(
        update(sessions)
        .where(sessions.c.account_id == account_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
