"""The append-only, hash-chained event history (BJ-23, BJ-15).

Every entry carries the SHA-256 of the previous entry and its own hash over all its fields, so
``volcredit verify-history`` finds any edited, inserted, deleted or reordered entry. There is no
update or delete path in this code; the database refuses both too (migration 0001). A chain alone
cannot tell a truncated tail from a shorter history: compare the head printed by
``verify-history`` with one recorded elsewhere (``--expect-head``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Select, insert, select, text

from volcredit.store.schema import history

GENESIS = "0" * 64
_PG_HISTORY_LOCK = 0x76686973  # "vhis": one appender at a time


@dataclass(frozen=True)
class NewEvent:
    """An event to append: what happened to which reference, on which date, by whom."""

    ref: str
    event: str
    date: date
    actor: str
    source: str  # import | portal | cli | system
    note: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Entry:
    seq: int
    ref: str
    event: str
    date: date
    note: str | None
    actor: str
    source: str
    recorded_at: datetime
    payload: dict[str, Any] | None
    prev_hash: str
    hash: str


def entry_hash(seq: int, ev: NewEvent, recorded_at: datetime, prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of every field of an entry and the previous hash."""
    body = [
        seq,
        ev.ref,
        ev.event,
        ev.date.isoformat(),
        ev.note,
        ev.actor,
        ev.source,
        recorded_at.isoformat(),
        ev.payload,
        prev_hash,
    ]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def lock(conn: Connection) -> None:
    """Hold the history for appending until the caller's write transaction ends.

    On SQLite the write transaction (``BEGIN IMMEDIATE``) already excludes other writers; on
    PostgreSQL an advisory lock does. Check-then-append under this lock cannot race.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_HISTORY_LOCK})


def append(conn: Connection, events: Iterable[NewEvent], recorded_at: datetime) -> list[Entry]:
    """Append ``events`` in order inside the caller's write transaction; return the new entries."""
    lock(conn)
    last = conn.execute(
        select(history.c.seq, history.c.hash).order_by(history.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    rows: list[dict[str, Any]] = []
    added: list[Entry] = []
    for ev in events:
        seq += 1
        digest = entry_hash(seq, ev, recorded_at, prev)
        entry = Entry(
            seq,
            ev.ref,
            ev.event,
            ev.date,
            ev.note,
            ev.actor,
            ev.source,
            recorded_at,
            ev.payload,
            prev,
            digest,
        )
        rows.append(entry.__dict__.copy())
        added.append(entry)
        prev = digest
    if rows:
        conn.execute(insert(history), rows)
    return added


def entries(conn: Connection, ref: str | None = None) -> Iterator[Entry]:
    """Stream entries in chain order, optionally only those about ``ref``."""
    query = select(history).order_by(history.c.seq)
    if ref is not None:
        query = query.where(history.c.ref == ref)
    for row in conn.execute(query.execution_options(yield_per=5000)):
        yield Entry(**row._mapping)


@dataclass(frozen=True)
class RecordedEvent:
    event: str
    date: date
    note: str | None


def events_query(
    table: FromClause,
    key: str,
    first: Sequence[ColumnElement[Any]] = (),
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """Rows of ``table`` (matching ``where``) joined to the history entries whose ``ref`` is
    their ``key``, in ``first`` then ``key`` then history order, streamed in batches. Build it
    once for a hot path (with ``bindparam`` in ``where``) and run it with
    :func:`rows_with_events`."""
    return (
        select(
            table,
            history.c.event.label("_event"),
            history.c.date.label("_event_date"),
            history.c.note.label("_event_note"),
        )
        .outerjoin(history, history.c.ref == table.c[key])
        .where(table.c[key].is_not(None), *where)
        .order_by(*first, table.c[key], history.c.seq)
        .execution_options(yield_per=2000)  # here, once: a statement made per run is not cached
    )


def rows_with_events(
    conn: Connection,
    query: Select[Any],
    table: FromClause,
    key: str,
    params: dict[str, Any] | None = None,
) -> Iterator[tuple[dict[str, Any], list[RecordedEvent]]]:
    """Run an :func:`events_query`: each row with its events, streamed (one row in memory)."""
    result = conn.execute(query, params or {})
    at = {name: i for i, name in enumerate(result.keys())}  # by position: faster than by name
    columns = [(c.name, at[c.name]) for c in table.columns]
    k, event, day, note = at[key], at["_event"], at["_event_date"], at["_event_note"]
    current: dict[str, Any] | None = None
    events: list[RecordedEvent] = []
    for row in result:
        if current is None or row[k] != current[key]:
            if current is not None:
                yield current, events
            current, events = {n: row[i] for n, i in columns}, []
        if row[event] is not None:
            events.append(RecordedEvent(row[event], row[day], row[note]))
    if current is not None:
        yield current, events


def with_events(
    conn: Connection,
    table: FromClause,
    key: str,
    first: Sequence[ColumnElement[Any]] = (),
    where: Sequence[ColumnElement[bool]] = (),
) -> Iterator[tuple[dict[str, Any], list[RecordedEvent]]]:
    """Every row of ``table`` (matching ``where``) with the history entries whose ``ref`` is its
    ``key``, streamed: one query, one row and its events in memory at a time. Rows come in
    ``first`` then ``key`` order (``first`` must not split one key's rows)."""
    query = events_query(table, key, first, where)
    return rows_with_events(conn, query, table, key)


@dataclass(frozen=True)
class Verification:
    count: int
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection, expect_head: str | None = None) -> Verification:
    """Walk the chain and report every break (BJ-23): edited, inserted, deleted or moved entries."""
    problems: list[str] = []
    expected_seq, prev, count = 1, GENESIS, 0
    for e in entries(conn):
        count += 1
        if e.seq != expected_seq:
            problems.append(f"事件 {expected_seq}–{e.seq - 1} 缺失（被删除）")
        if e.prev_hash != prev:
            problems.append(f"事件 {e.seq} 的前一哈希与链不符（其前有事件被插入、删除或改动）")
        recorded = NewEvent(e.ref, e.event, e.date, e.actor, e.source, e.note, e.payload)
        if entry_hash(e.seq, recorded, e.recorded_at, e.prev_hash) != e.hash:
            problems.append(f"事件 {e.seq}（{e.ref} {e.event}）的内容被改动")
        expected_seq, prev = e.seq + 1, e.hash
    if expect_head is not None and expect_head != prev:
        problems.append(f"链头 {prev} 与预期 {expect_head} 不符（末尾事件被删除或链被重写）")
    return Verification(count, prev, tuple(problems))
