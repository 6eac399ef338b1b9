"""Organisation identification in the store (HN-1a–c): the imported state plus the decisions
recorded since, as history events on the organisation's USCC.

Content tables are replaced by each load; decisions live in the append-only history, so they
survive reloads and a past date reproduces what was true then. Decisions are few (one per staff
action), so they are read once per build into a dict keyed by USCC; organisations are streamed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from volcredit.rules import identification as rule
from volcredit.store import history
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

Decisions = dict[str, list[rule.Decision]]


class DecisionRefused(ValueError):
    """A decision that HN-1a–c does not allow, with the rule it breaks."""

    def __init__(self, rule_id: str, message: str) -> None:
        self.rule = rule_id
        super().__init__(message)


def decisions(conn: Connection, today: date, uscc: str | None = None) -> Decisions:
    """Identification decisions dated on or before ``today``, by USCC, in history order."""
    h = history_table
    query = (
        select(h.c.ref, h.c.event, h.c.date, h.c.payload)
        .where(h.c.event.in_(rule.EVENTS), h.c.date <= today)
        .order_by(h.c.seq)
    )
    if uscc is not None:
        query = query.where(h.c.ref == uscc)
    found: Decisions = defaultdict(list)
    for ref, event, day, payload in conn.execute(query):
        charter = (payload or {}).get("charter_volunteer_purpose")
        found[ref].append(rule.Decision(event, day, charter))
    return found


def _mapping(row: Any) -> Any:
    """A row's mapping (``hasattr`` on a RowMapping raises and formats exceptions: slow)."""
    return row._mapping if isinstance(row, Row) else row


def standing_of(row: Any) -> rule.OrganisationStanding:
    """The imported identification facts of an ``organisations`` row (or mapping)."""
    m = _mapping(row)
    return rule.OrganisationStanding(
        m["name"],
        bool(m["charter_volunteer_purpose"]),
        m["identified_on"],
        m["identification_basis"],
        m["identification_removed_on"],
    )


def state(row: Any, found: Decisions, today: date) -> rule.Identification:
    """The organisation's identification on ``today`` (imported facts + decisions)."""
    m = _mapping(row)
    return rule.replay(standing_of(m), found.get(m["uscc"], []), today)


@dataclass(frozen=True)
class Organisation:
    """One organisation with its identification on a date (staff view: not a public item)."""

    uscc: str
    name: str
    kind: str
    region: str
    registration_authority: str
    charter_volunteer_purpose: bool
    identification: rule.Identification


def _organisation(row: Any, current: rule.Identification) -> Organisation:
    return Organisation(
        row.uscc,
        row.name,
        row.kind,
        row.region,
        row.registration_authority,
        bool(row.charter_volunteer_purpose),
        current,
    )


def organisation(conn: Connection, uscc: str, today: date) -> Organisation | None:
    """One organisation by USCC with its identification on ``today``, or ``None``."""
    o = content_tables["organisations"]
    row = conn.execute(select(o).where(o.c.uscc == uscc)).first()
    if row is None:
        return None
    return _organisation(row, state(row, decisions(conn, today, uscc), today))


def pending_requests(conn: Connection, today: date) -> Iterator[Organisation]:
    """Organisations with an open HN-1b request on ``today``, oldest request first."""
    found = decisions(conn, today)
    asked = [u for u, ds in found.items() if any(d.event == rule.REQUESTED for d in ds)]
    o = content_tables["organisations"]
    rows = []
    for start in range(0, len(asked), 500):
        chunk = asked[start : start + 500]
        local = select(o).where(o.c.uscc.in_(chunk), o.c.source_line != 0)  # not transferred
        rows.extend(conn.execute(local).all())
    out = []
    for row in rows:
        current = state(row, found, today)
        if current.requested_on is not None and not current.identified(today):
            out.append(_organisation(row, current))
    out.sort(key=lambda org: (org.identification.requested_on, org.uscc))
    yield from out


def record(
    conn: Connection,
    uscc: str,
    event: str,
    today: date,
    actor: str,
    source: str,
    now: datetime,
    charter_volunteer_purpose: bool | None = None,
    note: str | None = None,
) -> history.Entry:
    """Append one identification decision after checking it against HN-1a–c (inside the
    caller's write transaction, under the history lock, so two staff cannot both decide).

    ``charter_volunteer_purpose`` is what the staff member confirmed about the charter for this
    decision (HN-1b verification, HN-1c amended charter); ``None`` keeps the imported value.
    """
    history.lock(conn)
    o = content_tables["organisations"]
    row = conn.execute(select(o).where(o.c.uscc == uscc)).first()
    if row is None:
        raise DecisionRefused("HN-1a", f"没有统一社会信用代码为 {uscc} 的组织")
    recorded = decisions(conn, date.max, uscc).get(uscc, [])
    standing = rule.with_charter(standing_of(row), rule.replay(standing_of(row), recorded, today))
    if charter_volunteer_purpose is not None:
        standing = rule.OrganisationStanding(
            standing.name,
            charter_volunteer_purpose,
            standing.identified_on,
            standing.identification_basis,
            standing.identification_removed_on,
        )
    if recorded and recorded[-1].date > today:
        last = recorded[-1].date.isoformat()
        raise DecisionRefused("HN-1a", f"该组织已有 {last} 的认定决定，不能记录更早日期的决定")
    current = rule.replay(standing, recorded, today)
    problem = rule.decision_problem(event, standing, current, today)
    if problem is not None:
        raise DecisionRefused(*problem)
    payload: dict[str, Any] = {}
    if charter_volunteer_purpose is not None:
        payload["charter_volunteer_purpose"] = charter_volunteer_purpose
    new = history.NewEvent(uscc, event, today, actor, source, note or None, payload or None)
    return history.append(conn, [new], now)[0]


def direct_candidates(conn: Connection, today: date, limit: int = 200) -> list[Organisation]:
    """Organisations that qualify for direct identification (HN-1a: keyword name and a
    volunteer-service charter) but are not identified on ``today``, by USCC, at most ``limit``."""
    o = content_tables["organisations"]
    keyword = or_(*(o.c.name.contains(k, autoescape=True) for k in rule.NAME_KEYWORDS))
    query = (
        select(o)
        .where(keyword, o.c.charter_volunteer_purpose.is_(True), o.c.source_line != 0)
        .order_by(o.c.uscc)
    )
    found = decisions(conn, today)
    out: list[Organisation] = []
    for row in conn.execute(query.execution_options(yield_per=2000)):
        current = state(row, found, today)
        if current.identified(today) or not rule.name_qualifies(row.name):
            continue
        if current.charter is False:  # an officer found the (amended) charter lacks the purpose
            continue
        out.append(_organisation(row, current))
        if len(out) >= limit:
            break
    return out
