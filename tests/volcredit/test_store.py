"""The store on SQLite and PostgreSQL: migrations, locking, the append-only hash chain (BJ-23)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, text

from volcredit.store import history
from volcredit.store.engine import Store, open_store
from volcredit.store.migrate import current_revision, head_revision
from volcredit.store.schema import metadata

AT = datetime(2026, 11, 21, 10, 0, 0)


def add(store: Store, *refs: str) -> None:
    with store.write() as conn:
        history.append(
            conn,
            [
                history.NewEvent(
                    r,
                    "notice_served",
                    date(2026, 11, 2),
                    "staff:ma",
                    "portal",
                    f"note {r}",
                    {"k": [1, "二"]},
                )
                for r in refs
            ],
            AT,
        )


def test_migrations_reach_head_and_match_the_model(store: Store) -> None:
    assert current_revision(store) == head_revision()
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    open_store(store.url).dispose()  # a second open is a no-op


def test_bj23_history_chain_verifies(store: Store) -> None:
    add(store, "P1", "P2")
    add(store, "P3")
    with store.read() as conn:
        result = history.verify(conn)
        seqs = [e.seq for e in history.entries(conn)]
    assert result.ok and result.count == 3 and seqs == [1, 2, 3]
    with store.read() as conn:
        assert history.verify(conn, expect_head=result.head).ok


def test_bj15_history_answers_who_did_what_to_a_subject(store: Store) -> None:
    """BJ-15: the history names, per reference, who acted, when, and through which channel."""
    add(store, "P1", "P2")
    add(store, "P1")
    with store.read() as conn:
        about_p1 = list(history.entries(conn, ref="P1"))
    assert [(e.seq, e.actor, e.source, e.recorded_at) for e in about_p1] == [
        (1, "staff:ma", "portal", AT),
        (3, "staff:ma", "portal", AT),
    ]


def test_bj23_database_refuses_update_and_delete(store: Store) -> None:
    """BJ-23: no one can silently alter or delete history; the database itself refuses."""
    add(store, "P1")
    for statement in ("UPDATE history SET note = 'x'", "DELETE FROM history"):
        with pytest.raises(exc.DBAPIError, match="append-only"), store.write() as conn:
            conn.execute(text(statement))
    with store.read() as conn:
        assert history.verify(conn).ok


def _tamper(store: Store, *statements: str) -> None:
    """What an attacker with direct database access might do, bypassing the guards."""
    with store.write() as conn:
        if store.is_postgres:
            conn.execute(text("ALTER TABLE history DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS history_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS history_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
        if store.is_postgres:
            conn.execute(text("ALTER TABLE history ENABLE TRIGGER USER"))


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE history SET note = 'changed' WHERE seq = 2", "内容被改动"),
        ("DELETE FROM history WHERE seq = 2", "缺失"),
        ("UPDATE history SET seq = seq + 100 WHERE seq = 3", "缺失"),
    ],
)
def test_bj23_verify_history_finds_edits_and_deletions(
    store: Store, statement: str, expected: str
) -> None:
    add(store, "P1", "P2", "P3")
    _tamper(store, statement)
    with store.read() as conn:
        result = history.verify(conn)
    assert not result.ok and any(expected in p for p in result.problems)


def test_bj23_verify_history_finds_an_inserted_event(store: Store) -> None:
    add(store, "P1", "P2", "P3")
    with store.read() as conn:
        second = [e for e in history.entries(conn)][1]
    _tamper(
        store,
        "UPDATE history SET seq = -seq WHERE seq >= 2",
        "UPDATE history SET seq = 1 - seq WHERE seq < 0",
    )
    forged = history.NewEvent("P9", "decided_listed", date(2026, 11, 3), "staff:x", "portal")
    row = {
        **second.__dict__,
        "seq": 2,
        "ref": "P9",
        "event": "decided_listed",
        "hash": history.entry_hash(2, forged, AT, second.prev_hash),
        "note": None,
        "actor": "staff:x",
        "payload": None,
        "date": date(2026, 11, 3),
    }
    with store.write() as conn:
        conn.execute(history.history.insert(), [row])  # type: ignore[attr-defined]
    with store.read() as conn:
        result = history.verify(conn)
    assert not result.ok and any("前一哈希" in p for p in result.problems)


def test_bj23_truncated_tail_is_found_against_a_recorded_head(store: Store) -> None:
    add(store, "P1", "P2")
    with store.read() as conn:
        head = history.verify(conn).head
    _tamper(store, "DELETE FROM history WHERE seq = 2")
    with store.read() as conn:
        assert history.verify(conn).ok  # a chain alone cannot see a shorter tail...
        assert not history.verify(conn, expect_head=head).ok  # ...the recorded head can


def test_sqlite_is_wal_and_writes_begin_immediate(tmp_path: Path) -> None:
    """SQLite: WAL with busy_timeout; a write transaction takes the write lock at BEGIN."""
    path = tmp_path / "s.sqlite3"
    store = open_store(f"sqlite:///{path}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    with store.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    with store.read():
        other.execute("BEGIN IMMEDIATE")  # a reader does not hold the write lock
        other.execute("ROLLBACK")
    other.close()
    store.dispose()


def test_sqlite_read_is_one_transaction_seeing_one_state(tmp_path: Path) -> None:
    """SQLite: a read transaction (deferred BEGIN) sees one state throughout, whatever another
    process commits meanwhile; the next read sees the commit."""
    path = tmp_path / "s.sqlite3"
    store = open_store(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE scratch (x INTEGER)")
    other.execute("INSERT INTO scratch VALUES (1)")
    count = "SELECT count(*) FROM scratch"
    with store.read() as conn:
        assert conn.connection.driver_connection.in_transaction
        assert conn.exec_driver_sql(count).scalar() == 1
        other.execute("INSERT INTO scratch VALUES (2)")  # committed at once (autocommit)
        assert conn.exec_driver_sql(count).scalar() == 1
    with store.read() as conn:
        assert conn.exec_driver_sql(count).scalar() == 2
    other.close()
    store.dispose()
