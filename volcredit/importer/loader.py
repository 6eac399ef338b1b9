"""``volcredit load CONTENT_DIR``: validate everything, then replace the store's data atomically.

1. Every file's columns are checked (BJ-6 forbidden data refuses the whole load).
2. Every row is parsed and checked, streamed into staging tables (flat memory for CSV).
3. Cross-table checks run in SQL over the staging tables; events are replayed (BJ-16/17/18).
4. Only if no error was found anywhere, one write transaction replaces the live tables,
   re-applies the stored volunteer transfer packages (CQ-16: rows the new content lacks) and
   appends the new events and a ``content_loaded`` entry to the history. Otherwise nothing changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from volcredit.contract import LOAD_ORDER, TABLES
from volcredit.importer import crosschecks, staging
from volcredit.importer.events import IMPORT_SOURCE, EventCheck
from volcredit.importer.headers import check_columns
from volcredit.importer.locking import load_lock
from volcredit.importer.readers import (
    SourceError,
    SourceRow,
    TableSource,
    csv_header,
    find_sources,
    iter_csv,
    read_yaml,
    yaml_header,
)
from volcredit.importer.report import ProblemLog
from volcredit.importer.rows import RowContext, RowValidator
from volcredit.rules.calendar import MIN_STATUTORY_HOLIDAYS, WorkingCalendar
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.engine import Store, safe_error_message
from volcredit.transfer_store import reapply as reapply_transfers

BATCH_ROWS = 5000


@dataclass
class LoadResult:
    log: ProblemLog
    counts: dict[str, int] = field(default_factory=dict)
    new_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.log.has_errors


@dataclass
class _Run:
    store: Store
    data_dir: Path
    log: ProblemLog
    progress: bool
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    labels: crosschecks.Labels = field(default_factory=crosschecks.Labels)
    digests: dict[str, str] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # tables whose file could not be used


def load_content(
    store: Store,
    content_dir: Path,
    *,
    today: date,
    recorded_at: datetime,
    actor: str,
    periods: PublicityPeriods,
    progress: bool = False,
) -> LoadResult:
    """Load ``content_dir/data`` into ``store``, all or nothing."""
    log = ProblemLog()
    data_dir = content_dir / "data"
    if not data_dir.is_dir():
        log.error(str(data_dir), 0, "", "找不到数据目录（应为 CONTENT_DIR/data）")
        return LoadResult(log)
    run = _Run(store, data_dir, log, progress)
    sources = _sources(run)
    with load_lock(store):
        with store.write() as conn:
            staging.create(conn)
        try:
            for table in LOAD_ORDER:
                _stage_table(run, table, sources.get(table))
            return _check_and_swap(run, today, recorded_at, actor, periods)
        finally:
            with store.write() as conn:
                staging.drop(conn)


def _sources(run: _Run) -> dict[str, TableSource]:
    found: dict[str, TableSource] = {}
    known = {f"{t}{ext}" for t in TABLES for ext in (".csv", ".yaml", ".yml")}
    for path in sorted(run.data_dir.iterdir()):
        if path.is_file() and path.name not in known and not path.name.startswith("."):
            run.log.error(str(path), 0, "", "未知的表文件（数据目录只放数据约定中的表）")
    for table in LOAD_ORDER:
        files = find_sources(run.data_dir, table)
        if len(files) > 1:
            names = "、".join(f.path.name for f in files)
            run.log.error(str(files[0].path), 0, "", f"同一张表有多个文件：{names}")
        elif files:
            found[table] = files[0]
            run.labels[table] = str(files[0].path)
    return found


def _rows(run: _Run, source: TableSource) -> Iterator[SourceRow] | None:
    """The file's rows if its columns are acceptable, else ``None`` (problems logged)."""
    spec, label = TABLES[source.table], run.labels[source.table]
    try:
        if source.is_csv:
            if not check_columns(spec, csv_header(source.path), label, run.log):
                return None
            return iter_csv(source.path)
        rows = []
        for row in read_yaml(source.path):
            if row.problem:  # reported here: the rows are read even if the columns are refused
                run.log.error(label, row.line, "", row.problem)
            else:
                rows.append(row)
        lines = {}
        for row in rows:
            for name, line in row.field_lines.items():
                lines.setdefault(name, line)
        columns = yaml_header(rows)
        if not check_columns(spec, columns, label, run.log, lines or None):
            return None
        return iter(rows)
    except SourceError as exc:
        run.log.error(label, exc.line, "", str(exc))
        return None


def _stage_table(run: _Run, table: str, source: TableSource | None) -> None:
    if source is None:
        return
    run.digests[source.path.name] = _digest(source.path)
    rows = _rows(run, source)
    if rows is None:
        run.unreadable.add(table)
        return
    validator = RowValidator(TABLES[table], run.calendar)
    with run.store.read() as conn:
        stage = staging.BulkInserter(conn, table)
    label = run.labels[table]
    batch: list[dict[str, Any]] = []
    workdays: list[tuple[date, str]] = []
    ctx = RowContext(label, run.log)
    try:
        for row in _with_progress(run, rows, label):
            if row.problem:
                run.log.error(label, row.line, "", row.problem)
                continue
            values = validator.validate(row, ctx.start(row))
            batch.append(values)
            if table == "workdays" and not ctx.failed:
                workdays.append((values["date"], values["kind"]))
            if len(batch) >= BATCH_ROWS:
                _insert(run, stage, batch, label)
                batch = []
        _insert(run, stage, batch, label)
    except SourceError as exc:
        run.log.error(label, exc.line, "", str(exc))
        run.unreadable.add(table)
    except StagingRefused as refused:
        run.log.error(label, refused.line, "", str(refused))
        run.unreadable.add(table)
    if table == "workdays":
        run.calendar = WorkingCalendar.from_rows(workdays)
        for year, holidays in run.calendar.incomplete_years():
            run.log.error(
                label,
                0,
                "kind",
                f"{year} 年的日历不完整：只有 {holidays} 个节假日，"
                f"应列出全部法定节假日（至少 {MIN_STATUTORY_HOLIDAYS} 天）及调休上班日",
                "PERIOD",
            )


def _with_progress(run: _Run, rows: Iterator[SourceRow], label: str) -> Iterable[SourceRow]:
    if not run.progress:
        return rows
    from tqdm import tqdm

    return tqdm(rows, desc=Path(label).name, unit=" 行", unit_scale=True, leave=False)


class StagingRefused(RuntimeError):
    """The database refused a batch (a value no check foresaw); never shows the row values."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        super().__init__(f"数据库拒绝了从这一行起的一批数据：{reason}")


def _insert(
    run: _Run, stage: staging.BulkInserter, batch: list[dict[str, Any]], label: str
) -> None:
    if not batch:
        return
    try:
        with run.store.write() as conn:
            stage.insert(conn, batch)
    except DBAPIError as exc:
        raise StagingRefused(batch[0]["source_line"], safe_error_message(exc)) from None


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_and_swap(
    run: _Run, today: date, recorded_at: datetime, actor: str, periods: PublicityPeriods
) -> LoadResult:
    with run.store.write() as conn:
        staging.index(conn)
    if run.unreadable:
        names = "、".join(sorted(run.unreadable))
        run.log.error(
            str(run.data_dir), 0, "", f"{names} 无法读取：跨表检查未进行，请先修正上面的错误"
        )
        return LoadResult(run.log)
    with run.store.read() as conn:
        for check in crosschecks.ALL_CHECKS:
            check(conn, run.log, run.labels)
    if run.log.has_errors:
        return LoadResult(run.log)
    # Events are checked against the history inside the write transaction that appends to it,
    # so that no event appended meanwhile (portal, CLI) escapes the check.
    try:
        with run.store.write() as conn:
            return _swap(run, conn, today, recorded_at, actor, periods)
    except _EventsRefused:
        return LoadResult(run.log)


class _EventsRefused(Exception):
    """Rolls back the swap transaction when the events do not fit the history."""


def _swap(
    run: _Run,
    conn: Connection,
    today: date,
    recorded_at: datetime,
    actor: str,
    periods: PublicityPeriods,
) -> LoadResult:
    history.lock(conn)
    check = EventCheck(run.calendar, periods, today, run.labels, run.log)
    new_events = check.run(conn)
    if run.log.has_errors:
        raise _EventsRefused
    counts = staging.swap_into_live(conn)
    transferred = reapply_transfers(conn)  # CQ-16: imported volunteers outlive the new content
    entries = [
        history.NewEvent(e.ref, e.event, e.date, actor, IMPORT_SOURCE, e.note) for e in new_events
    ]
    payload: dict[str, Any] = {"files": run.digests, "counts": counts}
    if transferred:
        payload["transferred"] = transferred
    entries.append(
        history.NewEvent("content", "content_loaded", today, actor, "system", None, payload)
    )
    history.append(conn, entries, recorded_at)
    return LoadResult(run.log, counts, len(new_events))
