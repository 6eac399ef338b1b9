"""Staging tables: a load writes here first; the live tables change only in the final swap.

An interrupted load leaves only staging tables behind (dropped by the next load); the live data
stays fully usable throughout.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, MetaData, Table, text

from volcredit.contract import TABLES
from volcredit.store.schema import CONTENT_TABLE_NAMES, content_columns, content_tables

PREFIX = "stage_"

staging_metadata = MetaData()


# One staging table per contract table; ``events`` too (validated here, then appended to history).
stage_tables: dict[str, Table] = {
    name: Table(PREFIX + name, staging_metadata, *content_columns(spec))
    for name, spec in TABLES.items()
}

# Indexes that make the cross-table checks joins instead of scans; built after the rows are in.
_CHECK_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "regions": (("code",),),
    "organisations": (("uscc",),),
    "volunteers": (("volunteer_no",),),
    "service_records": (("record_id",), ("volunteer_no", "date")),
    "honours": (("honour_id",),),
    "penalties": (("case_id",),),
    "complaints": (("complaint_id",),),
    "events": (("ref",),),
}


def create(conn: Connection) -> None:
    """Drop staging tables left by an interrupted load, then create empty ones."""
    drop(conn)
    staging_metadata.create_all(conn)


def index(conn: Connection) -> None:
    """Index the filled staging tables (after the bulk insert, which is faster without them)."""
    for name, groups in _CHECK_INDEXES.items():
        table = stage_tables[name].name
        for cols in groups:
            conn.execute(
                text(f"CREATE INDEX ix_{table}_{'_'.join(cols)} ON {table} ({', '.join(cols)})")
            )


def drop(conn: Connection) -> None:
    for table in stage_tables.values():
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


class BulkInserter:
    """Fast inserts into one staging table: the driver's ``executemany`` with SQLAlchemy's own
    bind processors (dates, booleans, hours), skipping per-row statement compilation."""

    def __init__(self, conn: Connection, name: str) -> None:
        table = stage_tables[name]
        dialect = conn.dialect
        columns = [c.name for c in table.columns]
        self._take = itemgetter(*columns)
        self._convert = [
            (i, p) for i, c in enumerate(table.columns) if (p := c.type.bind_processor(dialect))
        ]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(columns)
        self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([mark] * len(columns))})"

    def rows(self, batch: list[dict[str, Any]]) -> list[Any]:
        """Parameter rows in column order; every row holds every column (validation sees to it)."""
        if not self._convert:
            return [self._take(row) for row in batch]  # itemgetter gives tuples
        out = []
        for row in batch:
            values = list(self._take(row))
            for i, process in self._convert:
                if values[i] is not None:
                    values[i] = process(values[i])
            out.append(tuple(values))
        return out

    def insert(self, conn: Connection, batch: list[dict[str, Any]]) -> None:
        if batch:
            conn.exec_driver_sql(self.sql, self.rows(batch))


def swap_into_live(conn: Connection) -> dict[str, int]:
    """Replace every live content table by its staging copy, in the caller's transaction."""
    counts: dict[str, int] = {}
    for name in CONTENT_TABLE_NAMES:
        live, stage = content_tables[name], stage_tables[name]
        cols = ", ".join(c.name for c in stage.columns)
        conn.execute(live.delete())
        result = conn.execute(
            text(f"INSERT INTO {live.name} ({cols}) SELECT {cols} FROM {stage.name}")
        )
        counts[name] = result.rowcount
    return counts
