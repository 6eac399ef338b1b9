"""The register search index in PostgreSQL (the scale path, DESIGN.md): the same public documents
the whoosh index holds (PUB-1), as rows of the table ``public_search`` in the store's schema.

Right after the site is switched, the build brings the table up to date in one transaction under
an advisory lock (:func:`refresh`): rows whose document changed or went are deleted, new and
changed ones inserted, compared by a digest of each row, so a one-entry change writes one row.
A table written by another version (its comment names the version) is replaced whole: written
as a table of this build's own and swapped in. Two builds of one store never mix their writes,
and a search sees the old rows or the new ones, never none. Words of three
characters or more are found through pg_trgm (a GIN trigram index on the lower-cased name and
title, in a UTF-8 database); shorter words (a two-character Chinese given name) through a GIN
index of every one- and two-character piece of the same text, so they never need a scan.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, text

from generator.search_index import SearchDoc

TABLE = "public_search"
_LOCK = 0x76737263  # "vsrc": one writer of the search table at a time, per database
BATCH = 5000
SHORT = 2  # words up to this length are looked up in ``grams``
_VERSION = "volcredit public_search 2"  # raise when columns, indexes or derived values change


def haystack(doc: SearchDoc) -> str:
    """The text a word is sought in: the name and the title, lower-cased."""
    return f"{doc.name} {doc.title}".lower()


def grams(value: str) -> list[str]:
    """Every piece of one and two characters of ``value`` without spaces, once each."""
    found: set[str] = set()
    for word in value.split():
        for size in range(1, SHORT + 1):
            found.update(word[i : i + size] for i in range(len(word) - size + 1))
    return sorted(found)


def ensure_trgm(conn: Connection) -> None:
    """pg_trgm in the database (in ``public``, shared by every store's schema); creating it needs
    a role allowed to (the guide says so)."""
    present = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    if present is None:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))


def _row(doc: SearchDoc) -> dict[str, object]:
    """The row for ``doc``, with a digest of everything else it holds."""
    hay = haystack(doc)
    row: dict[str, object] = {**doc.__dict__, "haystack": hay, "grams": grams(hay)}
    body = json.dumps(sorted(row.items()), ensure_ascii=False, separators=(",", ":"))
    row["digest"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return row


def _batches(rows: Iterable[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_COLUMNS = "key, kind, title, name, code, region, url, summary, haystack, grams, digest"


def _insert(table: str) -> Any:
    values = ", ".join(f":{c.strip()}" for c in _COLUMNS.split(","))
    return text(f"INSERT INTO {table} ({_COLUMNS}) VALUES ({values})")


def exists(conn: Connection) -> bool:
    """Whether the store has a search table (then every build must refresh it: a stale one
    would keep answering with entries the site no longer publishes, PUB-4)."""
    return conn.execute(text(f"SELECT to_regclass('{TABLE}')")).scalar() is not None


def refresh(conn: Connection, docs: Iterable[SearchDoc]) -> tuple[int, int]:
    """Make ``public_search`` hold exactly ``docs``, inside the caller's write transaction
    (committed with it): (documents, rows written)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    ensure_trgm(conn)
    if not _current(conn):
        count = replace(conn, docs)
        return count, count
    held = {key: value for key, value in conn.execute(text(f"SELECT key, digest FROM {TABLE}"))}
    count = 0
    changed: list[dict[str, object]] = []
    for doc in docs:
        count += 1
        if held.pop(doc.key, None) != (row := _row(doc))["digest"]:
            changed.append(row)
    stale = [*held, *(str(row["key"]) for row in changed)]
    for i in range(0, len(stale), BATCH):
        keys = stale[i : i + BATCH]
        conn.execute(text(f"DELETE FROM {TABLE} WHERE key = ANY(:keys)"), {"keys": keys})
    for batch in _batches(changed):
        conn.execute(_insert(TABLE), batch)
    if len(stale) + len(changed) > count // 10:  # the planner's figures, after a big change
        conn.execute(text(f"ANALYZE {TABLE}"))
    return count, len(changed)


def _current(conn: Connection) -> bool:
    """Whether the table was written by this version (its comment says which): only then can
    its rows be compared; an older table is replaced whole."""
    query = text(f"SELECT obj_description(to_regclass('{TABLE}'), 'pg_class')")
    return conn.execute(query).scalar() == _VERSION


def replace(conn: Connection, docs: Iterable[SearchDoc]) -> int:
    """Write ``docs`` into a table of this build's own and swap it in for ``public_search``,
    inside the caller's write transaction (committed with it); the count."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    ensure_trgm(conn)
    token = uuid.uuid4().hex[:12]  # the table and index names are this build's own
    new = f"{TABLE}_{token}"
    conn.execute(
        text(
            f"CREATE TABLE {new} (key text CONSTRAINT pk_ps_{token} PRIMARY KEY, kind text, "
            "title text, name text, code text, region text, url text, summary text, "
            "haystack text NOT NULL, grams text[] NOT NULL, digest text NOT NULL)"
        )
    )
    count = 0
    for batch in _batches(_row(doc) for doc in docs):
        conn.execute(_insert(new), batch)
        count += len(batch)
    conn.execute(
        text(f"CREATE INDEX ix_ps_{token}_trgm ON {new} USING gin (haystack public.gin_trgm_ops)")
    )
    conn.execute(text(f"CREATE INDEX ix_ps_{token}_grams ON {new} USING gin (grams)"))
    conn.execute(text(f"CREATE INDEX ix_ps_{token}_code ON {new} (code)"))
    conn.execute(text(f"COMMENT ON TABLE {new} IS '{_VERSION}'"))
    # Searches running on the old table finish first; new ones wait at most this long.
    conn.execute(text("SET LOCAL lock_timeout = '30s'"))
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    conn.execute(text(f"ALTER TABLE {new} RENAME TO {TABLE}"))
    conn.execute(text(f"ANALYZE {TABLE}"))
    return count
