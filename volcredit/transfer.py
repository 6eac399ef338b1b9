"""Transferring a volunteer's whole record between regions (CQ-16) in the national volunteer-
information data standard's elements (HN-3).

:func:`export_volunteer` gives one JSON-serialisable package (format
``volcredit-volunteer-transfer``, version 1, described element by element in docs/transfer.md):
the volunteer, the teams and regions their records refer to, projects, training, honours with
their history, service time, complaints, record certificates with their status events, other
info, and a SHA-256 over everything else so that corruption is detected.

:func:`import_volunteer` checks the whole package first (format, checksum, every row through the
loader's field checks, references, identifiers that would name a record of another kind, BJ-3,
CQ-9), then inserts what the store lacks; a row present with other values refuses the import and
nothing is written. The certificates are the issuing region's signed statements, which this
store cannot vouch for: they are kept with the package, never put in the store's certificates or
history. Importing a package twice changes nothing. The package is kept (table ``transfers``)
and re-applied by every later ``load`` (:func:`volcredit.transfer_store.reapply`), so the
replaced content does not drop it.

A package holds personal data that is never public (CQ-15, PUB-1): it goes from one
civil-affairs department to another, never to a third party.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from volcredit import certificates as certificate_api
from volcredit.contract import TABLES
from volcredit.store import history
from volcredit.store.schema import certificates, content_tables
from volcredit.store.schema import history as history_table
from volcredit.transfer_rows import (
    CENT,
    CERTIFICATE_FIELDS,
    EVENT_FIELDS,
    TransferProblem,
    parse,
    project_summary,
)
from volcredit.transfer_store import (
    IMPORTED,
    check_against,
    insert_rows,
    is_stored,
    plan,
    store_package,
)

FORMAT = "volcredit-volunteer-transfer"
VERSION = 1
SOURCE = "transfer"  # history source of imported events
LIST_ELEMENTS = (
    "teams",
    "regions",
    "projects",
    "training",
    "honours",
    "service_time",
    "evaluation_and_complaints",
    "certificates",
    "other_info",
)
TOP_LEVEL = ("format", "version", "exported_on", "source", "volunteer", *LIST_ELEMENTS, "sha256")
_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


class TransferError(LookupError):
    """A package that cannot be made (no such volunteer)."""


def canonical(value: Any) -> bytes:
    """The bytes the checksum covers: JSON with sorted keys, no spaces, UTF-8."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def checksum(package: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of every top-level element except ``sha256`` itself."""
    return hashlib.sha256(
        canonical({k: v for k, v in package.items() if k != "sha256"})
    ).hexdigest()


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))  # hours: exact decimal strings, never floats
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _rows(conn: Connection, table: str, where: Any, order: tuple[str, ...]) -> list[dict[str, Any]]:
    t = content_tables[table]
    query = select(t).where(where).order_by(*(t.c[c] for c in order), t.c.row_id)
    names = list(TABLES[table].field_names) + (["late_entry"] if table == "service_records" else [])
    return [{n: row._mapping[n] for n in names} for row in conn.execute(query)]


def _events(conn: Connection, refs: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every history event about ``refs``, in recorded order."""
    out: dict[str, list[dict[str, Any]]] = {r: [] for r in refs}
    if refs:
        h = history_table
        query = select(h).where(h.c.ref.in_(refs)).order_by(h.c.seq)
        for e in conn.execute(query):
            out[e.ref].append({n: _json(getattr(e, n)) for n in EVENT_FIELDS})
    return out


def _regions(conn: Connection, codes: set[str]) -> list[dict[str, Any]]:
    """The regions ``codes`` with their parents up to the province, provinces first."""
    found: dict[str, dict[str, Any]] = {}
    wanted = {c for c in codes if c}
    t = content_tables["regions"]
    while wanted:
        rows = _rows(conn, "regions", t.c.code.in_(sorted(wanted)), ("code",))
        found.update({r["code"]: r for r in rows})
        wanted = {r["parent"] for r in rows if r["parent"] and r["parent"] not in found}
    return sorted(found.values(), key=lambda r: (_LEVEL_ORDER.get(r["level"], 9), r["code"]))


def _certificates(conn: Connection, volunteer_no: str, today: date) -> list[dict[str, Any]]:
    """Issued certificates exactly as stored, with their status on ``today`` and status events."""
    status = {
        c.certificate_no: c.status for c in certificate_api.of_volunteer(conn, volunteer_no, today)
    }
    c = certificates
    query = select(c).where(c.c.volunteer_no == volunteer_no)
    rows = [
        dict(r._mapping) for r in conn.execute(query.order_by(c.c.issued_on, c.c.certificate_no))
    ]
    events = _events(conn, [r["certificate_no"] for r in rows])
    return [
        {
            **{n: _json(r[n]) for n in CERTIFICATE_FIELDS},
            "status": status.get(r["certificate_no"], "not_yet_issued"),
            "events": events[r["certificate_no"]],
        }
        for r in rows
    ]


def export_volunteer(
    conn: Connection, volunteer_no: str, today: date, *, authority: str | None = None
) -> dict[str, Any]:
    """One volunteer's whole record as a transfer package (CQ-16, HN-3); see docs/transfer.md."""
    v = content_tables["volunteers"]
    people = _rows(conn, "volunteers", v.c.volunteer_no == volunteer_no, ())
    if not people:
        raise TransferError(f"没有这个志愿者编号：{volunteer_no}")
    r, tr = content_tables["service_records"], content_tables["trainings"]
    records = _rows(
        conn, "service_records", r.c.volunteer_no == volunteer_no, ("date", "record_id")
    )
    trainings = _rows(conn, "trainings", tr.c.volunteer_no == volunteer_no, ("date", "topic"))

    def about(table: str, order: tuple[str, ...]) -> list[dict[str, Any]]:
        t = content_tables[table]
        where = (t.c.subject_kind == "person") & (t.c.subject == volunteer_no)
        return _rows(conn, table, where, order)

    honours = about("honours", ("awarded_on", "honour_id"))
    complaints = about("complaints", ("received_on", "complaint_id"))
    other = about("other_info", ("provided_on", "description"))
    certs = _certificates(conn, volunteer_no, today)
    honour_events = _events(conn, [h["honour_id"] for h in honours])
    used = {x["organisation"] for x in records + trainings}
    used |= {c[k] for c in certs for k in ("organisation", "issuer_uscc") if c[k]}
    o = content_tables["organisations"]
    teams = _rows(conn, "organisations", o.c.uscc.in_(sorted(used)), ("uscc",))
    regions = _regions(conn, {people[0]["region"], *(t["region"] for t in teams)})
    head = conn.execute(
        select(history_table.c.hash).order_by(history_table.c.seq.desc()).limit(1)
    ).scalar_one_or_none()

    def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: _json(x) for k, x in item.items()} for item in items]

    package: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_on": today.isoformat(),
        "source": {"system": "volcredit", "authority": authority, "history_head": head},
        "volunteer": rows(people)[0],
        "teams": rows(teams),
        "regions": rows(regions),
        "projects": project_summary(records),
        "training": rows(trainings),
        "honours": [{**h, "events": honour_events[h["honour_id"]]} for h in rows(honours)],
        "service_time": rows(records),
        "evaluation_and_complaints": rows(complaints),
        "certificates": certs,
        "other_info": rows(other),
    }
    package["sha256"] = checksum(package)
    return package


@dataclass
class ImportResult:
    """What an import did (``inserted``/``skipped`` per element, ``kept``: certificates kept
    with the package only), or why it was refused."""

    problems: list[TransferProblem] = field(default_factory=list)
    warnings: list[TransferProblem] = field(default_factory=list)
    inserted: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # with the package, not in the store
    volunteer_no: str | None = None
    sha256: str | None = None
    stored: bool = False  # the package was new to this store and is now kept

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> bool:
        return self.stored or any(self.inserted.values())


def _envelope(package: Any) -> list[TransferProblem]:
    """Format, version, the top-level elements' shapes, and the checksum."""

    def bad(name: str, message: str) -> TransferProblem:
        return TransferProblem("package", None, name, message, "CQ-16")

    if not isinstance(package, dict):
        return [bad("", "不是志愿者档案转移包（应为 JSON 对象）")]
    if package.get("format") != FORMAT:
        return [bad("format", f"不是志愿者档案转移包（format 应为 {FORMAT}）")]
    if package.get("version") != VERSION:
        return [
            bad("version", f"不支持的版本 {package.get('version')!r}（本系统读取版本 {VERSION}）")
        ]
    problems = [bad(k, "未知的元素") for k in package if k not in TOP_LEVEL]
    problems += [bad(k, "缺少此元素") for k in TOP_LEVEL if k not in package]
    problems += [
        bad(k, "应为列表")
        for k in LIST_ELEMENTS
        if k in package and not isinstance(package[k], list)
    ]
    for name in ("volunteer", "source"):
        if name in package and not isinstance(package[name], dict):
            problems.append(bad(name, "应为一个映射（字段名: 值）"))
    if problems:
        return problems
    try:
        date.fromisoformat(str(package["exported_on"]))
        digest = checksum(package)
    except ValueError:
        return [bad("exported_on", "应为 YYYY-MM-DD 格式的日期")]
    except TypeError:
        return [bad("", "含有不是 JSON 值的内容")]
    if package["sha256"] != digest:
        return [bad("sha256", "校验值不符：包在传输或保存中被改动或损坏，整个包被拒绝")]
    return []


def import_volunteer(
    conn: Connection, package: Any, today: date, actor: str, now: datetime
) -> ImportResult:
    """Import a transfer package inside the caller's write transaction (CQ-16, HN-3).

    All or nothing: every problem is reported and nothing is written, or every absent row is
    inserted, the package is kept for later loads and a ``volunteer_imported`` event is recorded.
    The package's certificates are not inserted (counted in ``kept``): see docs/transfer.md.
    """
    history.lock(conn)  # one writer: loads and other imports wait (the plan stays true)
    problems = _envelope(package)
    if problems:
        return ImportResult(problems)
    parsed = parse(package)
    result = ImportResult(
        parsed.problems, volunteer_no=parsed.volunteer_no, sha256=package["sha256"]
    )
    if result.problems:
        return result
    result.problems = check_against(conn, parsed)
    if result.problems:
        return result
    todo = plan(conn, parsed)
    result.problems, result.warnings = todo.problems, parsed.warnings + todo.warnings
    result.inserted, result.skipped = todo.inserted, dict(todo.skipped)
    result.kept = {"certificates": len(parsed.certificates)}
    if result.problems:
        result.inserted = {}
        return result
    volunteer_no = parsed.volunteer_no
    assert volunteer_no is not None
    insert_rows(conn, todo.inserts)
    if not is_stored(conn, package["sha256"]):
        store_package(conn, package, package["sha256"], volunteer_no, actor, now)
        result.stored = True
    if result.changed:
        events = [_transferred(ev, actor) for ev in todo.events]
        payload = {"sha256": package["sha256"], "counts": result.inserted}
        events.append(history.NewEvent(volunteer_no, IMPORTED, today, actor, SOURCE, None, payload))
        history.append(conn, events, now)
    return result


def _transferred(ev: dict[str, Any], actor: str) -> history.NewEvent:
    """An event as recorded in the source store, appended here with where it came from."""
    payload = dict(ev["payload"] or {})
    payload.setdefault(
        "transferred",
        {
            "actor": ev["actor"],
            "source": ev["source"],
            "recorded_at": ev["recorded_at"].isoformat(),
        },
    )
    return history.NewEvent(ev["ref"], ev["event"], ev["date"], actor, SOURCE, ev["note"], payload)
