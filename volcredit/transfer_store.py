"""Writing a volunteer transfer package into the store, and keeping it there across loads (CQ-16).

:func:`plan` compares every row of a package with the store: absent rows are inserted, rows
present with the same values are skipped, rows present with other values are conflicts.
:func:`check_identifiers` refuses a package whose references would attach to something of another
kind in the store (a penalty case, a certificate, an organisation...), so that nothing from a
package can join another record's history (CQ-16).
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
    BY_NAME,
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
IMPORTED = "volunteer_imported"  # the event an import records on the volunteer number


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
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[TransferProblem] = field(default_factory=list)
    warnings: list[TransferProblem] = field(default_factory=list)

    @property
    def inserted(self) -> dict[str, int]:
        counts = {e.name: len(self.inserts.get(e.name, [])) for e in ELEMENTS}
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


def _identity(ev: dict[str, Any]) -> tuple[str, str, date, str | None]:
    return (ev["ref"], ev["event"], ev["date"], ev["note"])


def _plan_events(conn: Connection, parsed: Parsed, out: Plan) -> None:
    """History events the store does not hold yet (same reference, event, date and note).

    Only an honour's own deletion requests are ever appended (checked again here, whatever
    :func:`parse` let through): anything else refuses the import."""
    h = history_table
    own = {row["honour_id"] for _, row in parsed.rows["honours"]}
    for element, index, i, ev in parsed.events:
        if element != "honours" or ev["ref"] not in own or ev["event"] not in ONCE:
            message = "只能随包转入本包荣誉的删除请求（deletion_requested）"
            out.problems.append(TransferProblem(element, index, f"events[{i}]", message, "CQ-16"))
    if out.problems:
        return
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
    problems += check_identifiers(conn, parsed)
    problems += _daily_hours(conn, parsed)
    return problems


def _present(conn: Connection, column: Any, values: Iterable[str]) -> set[str]:
    """Which of ``values`` the store holds in ``column``."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(values))):
        found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found


_STORE_IDS = (  # kind, what the store calls it, its column
    ("case", "本库的不良信息案件编号", content_tables["penalties"].c.case_id),
    ("certificate", "本库的证明编号", certificates.c.certificate_no),
    ("organisation", "本库的组织统一社会信用代码", content_tables["organisations"].c.uscc),
    ("volunteer", "本库的志愿者编号", content_tables["volunteers"].c.volunteer_no),
    ("honour", "本库的荣誉编号", content_tables["honours"].c.honour_id),
)
# The reference of each kind of package row, and the kinds it may not share an identifier with.
_MAY_NOT_BE = (
    ("honours", "honour_id", ("case", "certificate", "organisation", "volunteer")),
    ("service_time", "record_id", ("case", "honour")),
    ("evaluation_and_complaints", "complaint_id", ("case", "honour")),
    ("volunteer", "volunteer_no", ("case", "certificate", "organisation", "honour")),
)


def check_identifiers(conn: Connection, parsed: Parsed) -> list[TransferProblem]:
    """CQ-16: no reference of the package may name something of another kind, in the store or
    in the package. History events are kept by reference alone (``ref``), so an honour numbered
    like a penalty case, a certificate, an organisation or a volunteer would join that record's
    history, corrupt its replay and make every later ``load`` fail, and the history cannot be
    repaired (append-only). Checked: honour ids against case ids, certificate numbers, USCCs and
    volunteer numbers; record and complaint ids against case ids and honour ids; the volunteer
    number (where ``volunteer_imported`` is recorded) against cases, certificates, USCCs and
    honours; and the store's history under an honour id or the volunteer number must hold only
    events of that kind (:func:`_foreign_history`)."""
    refs = [
        (element, index, name, row[name])
        for element, name, _ in _MAY_NOT_BE
        for index, row in parsed.rows[element]
    ]
    asked = {value for *_, value in refs}
    known: dict[str, dict[str, str]] = defaultdict(dict)  # kind -> identifier -> what it is
    for kind, what, column in _STORE_IDS:
        known[kind].update(dict.fromkeys(_present(conn, column, asked), what))
    for element, kind, what in (
        ("teams", "organisation", "本包团体的统一社会信用代码"),
        ("volunteer", "volunteer", "本包的志愿者编号"),
        ("honours", "honour", "本包的荣誉编号"),
    ):
        key = BY_NAME[element].match[0]
        known[kind].update({row[key]: what for _, row in parsed.rows[element]})
    others = {element: kinds for element, _, kinds in _MAY_NOT_BE}
    problems: list[TransferProblem] = []
    for element, index, name, value in refs:
        what = next((known[k][value] for k in others[element] if value in known[k]), None)
        if what is not None:
            row = None if element == "volunteer" else index
            message = f"“{value}”已是{what}：编号不能与其他类记录相同（历史按编号记录）"
            problems.append(TransferProblem(element, row, name, message, "CQ-16"))
    honours = [(i, r["honour_id"]) for i, r in parsed.rows["honours"]]
    return problems + _foreign_history(conn, honours, parsed.volunteer_no)


def _foreign_history(
    conn: Connection, honours: list[tuple[int, str]], me: str | None
) -> list[TransferProblem]:
    """The store's history under the package's honour ids holds only honour events, and under
    its volunteer number only ``volunteer_imported``: events can then attach to them."""
    allowed = {h: HONOUR_EVENT_KINDS for _, h in honours}
    if me:
        allowed.setdefault(me, (IMPORTED,))
    h = history_table
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(sorted(allowed)):
        query = select(h.c.ref, h.c.event).where(h.c.ref.in_(chunk)).distinct()
        for ref, event in conn.execute(query):
            if event not in allowed[ref]:
                found[ref].add(event)
    where = [("honours", i, "honour_id", v) for i, v in honours]
    where += [("volunteer", None, "volunteer_no", me)] if me else []
    return [
        TransferProblem(
            element,
            row,
            name,
            f"本库的历史中编号“{value}”下已有其他类记录的事件（{'、'.join(sorted(found[value]))}）"
            "：不能把本包的记录接到它上面",
            "CQ-16",
        )
        for element, row, name, value in where
        if found.get(value)
    ]


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
    newly loaded content wins and an earlier package wins over a later one. History events are
    never replaced by a load, so they need nothing here; certificates stay in the package.
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
