"""Login throttling in the store, shared by every portal process (ASVS 2.2.1).

At most 10 tries in 5 minutes per account and per client address; a try beyond that is refused
before the password is checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text

from volcredit.store.portal_tables import login_attempts

MAX_TRIES = 10
WINDOW = timedelta(minutes=5)


def throttle_keys(login: str, address: str) -> list[str]:
    return [f"account:{login.strip().upper()[:100]}", f"ip:{address[:100]}"]


def blocked(conn: Connection, keys: list[str], now: datetime) -> bool:
    """True if any key has had ``MAX_TRIES`` tries in the last ``WINDOW``. On PostgreSQL each
    key is locked until the caller's transaction ends, so parallel tries cannot all pass the
    count before any is recorded (SQLite's write transactions already run one at a time)."""
    if conn.dialect.name == "postgresql":
        for key in sorted(keys):
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    for key in keys:
        count = conn.execute(
            select(func.count()).where(
                login_attempts.c.key == key, login_attempts.c.at > now - WINDOW
            )
        ).scalar_one()
        if count >= MAX_TRIES:
            return True
    return False


def record_try(conn: Connection, keys: list[str], now: datetime) -> None:
    """Count one try against every key, and forget tries older than the window."""
    conn.execute(delete(login_attempts).where(login_attempts.c.at <= now - WINDOW))
    conn.execute(insert(login_attempts), [{"key": k, "at": now} for k in keys])


def allow_try(conn: Connection, keys: list[str], now: datetime) -> bool:
    """Count a try and say whether it may go ahead (False: too many tries, nothing counted)."""
    if blocked(conn, keys, now):
        return False
    record_try(conn, keys, now)
    return True
