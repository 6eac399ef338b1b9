"""One load at a time per store: a PostgreSQL advisory lock, or a lock file beside SQLite."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from volcredit.store.engine import Store

_PG_LOAD_LOCK = 0x766C6F61  # "vloa"
# The store is the schema: two stores in one database (schemas) do not block each other.
_PG_KEYS = "(:k, hashtext(current_schema()))"


class LoadBusy(RuntimeError):
    def __init__(self) -> None:
        super().__init__("另一个导入正在对这个数据库进行，请等它结束后再试")


@contextmanager
def load_lock(store: Store) -> Iterator[None]:
    """Hold the store's load lock for the duration of the block, or raise :class:`LoadBusy`."""
    if store.is_postgres:
        with store.engine.connect() as conn:
            if not conn.execute(
                text(f"SELECT pg_try_advisory_lock{_PG_KEYS}"), {"k": _PG_LOAD_LOCK}
            ).scalar():
                raise LoadBusy()
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock{_PG_KEYS}"), {"k": _PG_LOAD_LOCK})
                conn.commit()
        return
    database = make_url(store.url).database
    lock_path = Path(f"{database}.load-lock") if database and database != ":memory:" else None
    if lock_path is None:
        yield
        return
    with lock_path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LoadBusy() from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
