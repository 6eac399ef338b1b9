"""The store's tables, derived from the data contract so that a field is named in one place.

Content tables (one per contract table except ``events``) are replaced whole by each load. The
``history`` table is the append-only, hash-chained event history (BJ-23): imported events and every
later action are appended to it and never edited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from volcredit.contract import TABLES, TableSpec


class Hours(TypeDecorator[Decimal]):
    """Hours as exact hundredths in an integer column (CQ-9: no floating-point drift in totals)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)) / 100


_TYPES: dict[str, Any] = {
    "date": Date,
    "bool": Boolean,
    "count": Integer,
    "year": Integer,
    "score": Integer,
    "int_choice": Integer,
    "hours": Hours,
    "region_code": String(6),
    "region_ref": String(6),
    "uscc": String(18),
    "uscc_ref": String(18),
    "code": String(64),
    "volunteer_ref": String(64),
    "subject_ref": String(64),
    "id_number": String(32),
    "phone": String(32),
    "enum": String(32),
}


def _derived() -> dict[str, list[Column[Any]]]:
    return {
        # HN-2a: entered more than 10 working days after the activity (None: calendar unknown).
        "service_records": [Column("late_entry", Boolean)],
    }


# Indexes for references and lookups, per table (the key gets a unique index).
_LOOKUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "regions": (("parent",),),
    "organisations": (("region",),),
    "volunteers": (("region",),),
    "service_records": (("volunteer_no", "date"), ("organisation",)),
    "trainings": (("volunteer_no",),),
    "honours": (("subject_kind", "subject"), ("awarded_on",)),
    "complaints": (("subject_kind", "subject"),),
    "penalties": (("subject_kind", "subject"),),
    "other_info": (("subject_kind", "subject"),),
}

CONTENT_TABLE_NAMES: tuple[str, ...] = tuple(n for n in TABLES if n != "events")


def content_columns(spec: TableSpec) -> list[Column[Any]]:
    """The data columns of a content table: the contract's fields, the source line, derived ones."""
    cols: list[Column[Any]] = [Column(f.name, _TYPES.get(f.kind, Text)) for f in spec.fields]
    cols.append(Column("source_line", Integer, nullable=False))
    cols.extend(_derived().get(spec.name, []))
    return cols


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _content_table(spec: TableSpec) -> Table:
    table = Table(
        spec.name,
        metadata,
        Column("row_id", Integer, primary_key=True, autoincrement=True),
        *content_columns(spec),
    )
    if spec.key:
        Index(f"uq_{spec.name}_key", *(table.c[k] for k in spec.key), unique=True)
    for cols in _LOOKUPS.get(spec.name, ()):
        Index(f"ix_{spec.name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


content_tables: dict[str, Table] = {n: _content_table(TABLES[n]) for n in CONTENT_TABLE_NAMES}

history = Table(
    "history",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ref", String(64), nullable=False, index=True),
    Column("event", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("note", Text),
    Column("actor", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("payload", JSON),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
# Decisions, announcements and spot checks are found by their event name (HN-1a–d, HN-2c).
Index("ix_history_event_date", history.c.event, history.c.date)

certificates = Table(
    "certificates",
    metadata,
    Column("certificate_no", String(32), primary_key=True),
    Column("volunteer_no", String(64), nullable=False, index=True),
    Column("issued_on", Date, nullable=False),
    Column("issuer_kind", String(16), nullable=False),  # authority | organisation
    Column("issuer_uscc", String(18)),  # an organisation issuing from its own records
    Column("organisation", String(18)),  # scope: one organisation's records, or all
    Column("period_from", Date),
    Column("period_to", Date),
    Column("payload", JSON, nullable=False),  # exactly the signed fields
    Column("signature", String(128), nullable=False),
    Column("key_fingerprint", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)
"""Record certificates as issued (CQ-17): insert-only, refused UPDATE and DELETE by triggers
(migration 0004). Revocation and supersession are history events on the certificate number."""

transfers = Table(
    "transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("volunteer_no", String(64), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("package", JSON, nullable=False),  # the package exactly as imported
    Column("imported_at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)
"""Volunteer transfer packages as imported (CQ-16, HN-3): insert-only (migration 0005). Each
``load`` re-applies them after replacing the content tables, inserting only the rows whose keys
the new content lacks (volcredit.transfer_store.reapply)."""

case_files = Table(
    "case_files",
    metadata,
    Column("file_id", String(64), primary_key=True),  # sha256 of seq, kind and content
    Column("ref", String(64), nullable=False, index=True),  # the case_id
    Column("seq", Integer, nullable=False, index=True),  # the history entry it came with
    Column("kind", String(32), nullable=False),  # evidence | commitment | rectification | ...
    Column("name", String(200), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)
"""Files filed with a due-process step (BJ-16b statements, BJ-17a objections, BJ-18 repair
materials): insert-only (migration 0006), each bound to the history entry that filed it, whose
payload carries the file's SHA-256, so the hash chain covers the files too (BJ-23)."""
