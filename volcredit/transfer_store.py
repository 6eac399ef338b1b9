"""Writing a volunteer transfer package into the store, and keeping it there across loads (CQ-16).

:func:`plan` compares every row of a package with the store: absent rows are inserted, rows
present with the same values are skipped, rows present with other values are conflicts.
:func:`reapply` runs inside every ``load``, right after the content tables were replaced: it
inserts, from every stored package, the rows whose keys the new content does not have, so the
platform's newer data wins and a transferred volunteer is not dropped by the next load.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from volcredit.contract import HONOUR_EVENT_KINDS, TABLES
from volcredit.store.schema import certificates, content_columns, content_tables, transfers
from volcredit.store.schema import history as history_table
from volcredit.transfer_rows import (
    CERTIFICATE_FIELDS,
    ELEMENTS,
    MAX_DAILY_HOURS,
    Element,
    Parsed,
    TransferProblem,
    parse,
)

CHUNK = 500
ONCE = HONOUR_EVENT_KINDS  # events a reference has at most once (BJ-17b deletion request)
PACKAGES_PER_PASS = 100


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


def _existing(
    conn: Connection, element: Element, rows: Iterable[dict[str, Any]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The store's rows matching ``rows`` by the element's ``match`` fields."""
    table = content_tables[element.table]
    column = table.c[element.lookup]
    wanted = sorted({r[element.lookup] for r in rows if r[element.lookup] is not None})
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for chunk in _chunks(wanted):
        for row in conn.execute(select(table).where(column.in_(chunk))):
            m = row._mapping
            found.setdefault(tuple(m[k] for k in element.match), dict(m))
    return found


@dataclass
class Plan:
    """What importing a package would do: rows to insert per table, skips, conflicts."""

    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[TransferProblem] = field(default_factory=list)
    warnings: list[TransferProblem] = field(default_factory=list)

    @property
    def inserted(self) -> dict[str, int]:
        counts = {e.name: len(self.inserts.get(e.name, [])) for e in ELEMENTS}
        counts["certificates"] = len(self.certificates)
        counts["events"] = len(self.events)
        return counts


def plan(conn: Connection, parsed: Parsed) -> Plan:
    """Compare every row of ``parsed`` with the store (nothing is written)."""
    out = Plan()
    for element in ELEMENTS:
        rows = parsed.rows[element.name]
        found = _existing(conn, element, (r for _, r in rows))
        new = out.inserts.setdefault(element.name, [])
        for index, row in rows:
            old = found.get(tuple(row[k] for k in element.match))
            if old is None:
                new.append(row)
                continue
            out.skipped[element.name] += 1
            for name in element.fields:
                if not _same(row[name], old[name]):
                    _conflict(out, element, index, name)
    _plan_certificates(conn, parsed, out)
    _plan_events(conn, parsed, out)
    return out


def _conflict(out: Plan, element: Element, index: int, name: str) -> None:
    row = None if element.name == "volunteer" else index
    if element.strict:
        message = "本库已有这一行，但此字段的值不同：请先核实哪一方正确（不会覆盖）"
        out.problems.append(TransferProblem(element.name, row, name, message, "CQ-16"))
    else:
        message = "本库已有这一行，此字段的值不同：保留本库的值"
        out.warnings.append(TransferProblem(element.name, row, name, message, "", True))


def _plan_certificates(conn: Connection, parsed: Parsed, out: Plan) -> None:
    numbers = [c["certificate_no"] for _, c in parsed.certificates]
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(numbers):
        for row in conn.execute(
            select(certificates).where(certificates.c.certificate_no.in_(chunk))
        ):
            found[row.certificate_no] = dict(row._mapping)
    for index, cert in parsed.certificates:
        old = found.get(cert["certificate_no"])
        if old is None:
            out.certificates.append(cert)
            continue
        out.skipped["certificates"] += 1
        for name in CERTIFICATE_FIELDS:
            if not _same(cert[name], old[name]):
                message = "本库已有这份证明，但此字段的值不同（证明只增不改）"
                out.problems.append(TransferProblem("certificates", index, name, message, "CQ-17"))


def _identity(ev: dict[str, Any]) -> tuple[str, str, date, str | None]:
    return (ev["ref"], ev["event"], ev["date"], ev["note"])


def _plan_events(conn: Connection, parsed: Parsed, out: Plan) -> None:
    """History events the store does not hold yet (same reference, event, date and note)."""
    h = history_table
    refs = sorted({ev["ref"] for *_, ev in parsed.events})
    known: set[tuple[str, str, date, str | None]] = set()
    for chunk in _chunks(refs):
        query = select(h.c.ref, h.c.event, h.c.date, h.c.note).where(h.c.ref.in_(chunk))
        known.update(tuple(r) for r in conn.execute(query))  # type: ignore[misc]
    once = {(ref, event) for ref, event, *_ in known if event in ONCE}
    for *_, ev in parsed.events:
        if _identity(ev) in known or (ev["ref"], ev["event"]) in once:
            out.skipped["events"] += 1  # BJ-17b: the first deletion request is the one
            continue
        known.add(_identity(ev))
        if ev["event"] in ONCE:
            once.add((ev["ref"], ev["event"]))
        out.events.append(ev)


def check_against(conn: Connection, parsed: Parsed) -> list[TransferProblem]:
    """References the package leaves to the store, and CQ-9 with the store's other records."""
    problems: list[TransferProblem] = []
    regions = {r["code"] for _, r in parsed.rows["regions"]}
    teams = {t["uscc"] for _, t in parsed.rows["teams"]}
    wanted: list[tuple[str, int | None, str, str, str]] = []  # element, row, field, table, value
    for element, table, name, pool in (
        ("regions", "regions", "parent", regions),
        ("teams", "regions", "region", regions),
        ("volunteer", "regions", "region", regions),
        ("service_time", "organisations", "organisation", teams),
        ("training", "organisations", "organisation", teams),
    ):
        for index, row in parsed.rows[element]:
            value = row[name]
            if value is not None and value not in pool:
                where = None if element == "volunteer" else index
                wanted.append((element, where, name, table, value))
    keys = {"regions": "code", "organisations": "uscc"}
    present: set[tuple[str, str]] = set()
    for table, key in keys.items():
        values = sorted({w[4] for w in wanted if w[3] == table})
        column = content_tables[table].c[key]
        for chunk in _chunks(values):
            present.update(
                (table, v) for v in conn.execute(select(column).where(column.in_(chunk))).scalars()
            )
    for element, where, name, table, value in wanted:
        if (table, value) not in present:
            message = f"引用的 {table}.{keys[table]} {value} 既不在包中，也不在本库中"
            problems.append(TransferProblem(element, where, name, message))
    problems += _daily_hours(conn, parsed)
    return problems


def _daily_hours(conn: Connection, parsed: Parsed) -> list[TransferProblem]:
    """CQ-9: with the store's other records of this volunteer, at most 24 hours a day."""
    rows = parsed.rows["service_time"]
    if not rows:
        return []
    r = content_tables["service_records"]
    ids = {row["record_id"] for _, row in rows}
    query = select(r.c.record_id, r.c.date, r.c.hours).where(
        r.c.volunteer_no == parsed.volunteer_no
    )
    daily: dict[date, Decimal] = defaultdict(Decimal)
    for record_id, day, hours in conn.execute(query):
        if record_id not in ids and hours is not None:
            daily[day] += hours
    for _, row in rows:
        daily[row["date"]] += row["hours"]
    return [
        TransferProblem(
            "service_time", i, "hours", "加上本库已有的记录，当天时长超过 24 小时", "CQ-9"
        )
        for i, row in rows
        if daily[row["date"]] > MAX_DAILY_HOURS
    ]


def _columns(element: Element) -> list[str]:
    return [c.name for c in content_columns(TABLES[element.table])]


def insert_rows(conn: Connection, inserts: dict[str, list[dict[str, Any]]]) -> None:
    """Insert planned content rows (every row carries every column of its table)."""
    for element in ELEMENTS:
        rows = inserts.get(element.name) or []
        if rows:
            names = _columns(element)
            values = [{n: row.get(n) for n in names} for row in rows]
            conn.execute(insert(content_tables[element.table]), values)


def insert_certificates(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(certificates), [{n: r[n] for n in CERTIFICATE_FIELDS} for r in rows])


def is_stored(conn: Connection, sha256: str) -> bool:
    query = select(transfers.c.id).where(transfers.c.sha256 == sha256)
    return conn.execute(query).first() is not None


def store_package(
    conn: Connection,
    package: dict[str, Any],
    sha256: str,
    volunteer_no: str,
    actor: str,
    now: datetime,
) -> None:
    """Keep the package (insert-only) so that every later load re-applies it."""
    row = {
        "volunteer_no": volunteer_no,
        "sha256": sha256,
        "package": package,
        "imported_at": now,
        "actor": actor[:200],
    }
    conn.execute(insert(transfers), [row])


def reapply(conn: Connection) -> dict[str, int]:
    """Re-insert, from every stored package, the content rows the store lacks (CQ-16).

    Runs in the load's write transaction right after the content tables were replaced. Packages
    are taken in import order; a row is inserted only if no row with its key is present, so the
    newly loaded content wins and an earlier package wins over a later one. Certificates and
    history events are never replaced by a load, so they need nothing here.
    """
    ids = list(conn.execute(select(transfers.c.id).order_by(transfers.c.id)).scalars())
    counts: Counter[str] = Counter()
    for chunk in _chunks(ids, PACKAGES_PER_PASS):
        query = select(transfers.c.package).where(transfers.c.id.in_(chunk))
        packages = conn.execute(query.order_by(transfers.c.id)).scalars()
        pending: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {e.name: {} for e in ELEMENTS}
        for package in packages:
            parsed = parse(package)  # validated at import; a row that no longer is is left out
            for element in ELEMENTS:
                for _, row in parsed.rows[element.name]:
                    pending[element.name].setdefault(tuple(row[k] for k in element.match), row)
        inserts: dict[str, list[dict[str, Any]]] = {}
        for element in ELEMENTS:
            rows = pending[element.name]
            found = _existing(conn, element, rows.values())
            inserts[element.name] = [row for key, row in rows.items() if key not in found]
            if inserts[element.name]:
                counts[element.table] += len(inserts[element.name])
        insert_rows(conn, inserts)
    return dict(counts)
