"""Everything held about one subject, by information class (BJ-14b, BJ-14c, CQ-6–13).

The portal shows a subject their own record through this module, and a consented recipient or a
staff member only the classes their authority covers. What is returned is the stored data as it
is: the caller masks for display through :func:`volcredit.rules.masking.mask` (PUB-7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Result, bindparam, exists, func, select
from sqlalchemy.exc import NoResultFound

from volcredit import identification
from volcredit.overview import CaseView, cases
from volcredit.publication import ADULT_AGE
from volcredit.rules.periods import age_on
from volcredit.rules.stars import StarReached, StarStanding, star_standing
from volcredit.rules.stars import star_history as stars_reached
from volcredit.rules.visibility import HonourItem, visibility
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.schema import content_tables


class InfoClass(Enum):
    """The classes a subject can consent to show (BJ-2 classes, with CQ-6 record parts)."""

    BASIC = "basic"
    SERVICE = "service"
    TRAINING = "training"
    HONOURS = "honours"
    COMPLAINTS = "complaints"
    CASES = "cases"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    InfoClass.BASIC: "基础信息（姓名、证件号码、联系方式等）",
    InfoClass.SERVICE: "服务记录、服务时长与星级",
    InfoClass.TRAINING: "培训记录",
    InfoClass.HONOURS: "表彰与荣誉（良好信息）",
    InfoClass.COMPLAINTS: "投诉记录",
    InfoClass.CASES: "不良信息案件",
    InfoClass.OTHER: "其他信息",
}

# Which classes exist for which subject kind (an organisation has no service or training record).
CLASSES: dict[str, tuple[InfoClass, ...]] = {
    "person": tuple(InfoClass),
    "organisation": (
        InfoClass.BASIC,
        InfoClass.HONOURS,
        InfoClass.COMPLAINTS,
        InfoClass.CASES,
        InfoClass.OTHER,
    ),
}

# HN-2b: why a service record earns no hours, shown to the volunteer.
EXCLUDED_REASONS: dict[int, str] = {
    1: "与本职工作密切相关的工作时间内活动（HN-2b 第1项）",
    2: "本单位、学校内部规定要求的活动（HN-2b 第2项）",
    3: "违反记录规定给予的时长：捐款捐物、承诺奖励、网上转发等（HN-2b 第3项）",
    4: "以志愿服务名义开展的收费旅游、参观、会议、研学或夏令营（HN-2b 第4项）",
}

_SUBJECT_TABLE = {
    "person": ("volunteers", "volunteer_no"),
    "organisation": ("organisations", "uscc"),
}


@dataclass(frozen=True)
class Subject:
    """A credit subject: ``kind`` is person|organisation, ``key`` its volunteer number or USCC."""

    kind: str
    key: str
    name: str


_K = bindparam("key")
_KIND = bindparam("kind")
_V, _O, _R = (content_tables[n] for n in ("volunteers", "organisations", "regions"))
_SR, _TR, _HO = (content_tables[n] for n in ("service_records", "trainings", "honours"))

# Statements built once: the self-query page runs them all on every request.
_FIND = {
    kind: select(content_tables[t].c.name).where(content_tables[t].c[k] == _K)
    for kind, (t, k) in _SUBJECT_TABLE.items()
}
_BASIC = {
    kind: select(content_tables[t], _R.c.name.label("region_name"))
    .outerjoin(_R, _R.c.code == content_tables[t].c.region)
    .where(content_tables[t].c[k] == _K)
    for kind, (t, k) in _SUBJECT_TABLE.items()
}
_T = bindparam("today")
_COUNTED = (_SR.c.date <= _T) & (_SR.c.recorded_on <= _T)  # as certificates count them
_HOURS = select(
    func.count(),
    func.count(_SR.c.excluded_kind),
    func.coalesce(func.sum(_SR.c.hours), 0),
    func.coalesce(func.sum(_SR.c.hours).filter(_SR.c.excluded_kind.is_(None) & _COUNTED), 0),
).where(_SR.c.volunteer_no == _K)
_RECORDS = (
    select(_SR, _O.c.name.label("organisation_name"))
    .outerjoin(_O, _O.c.uscc == _SR.c.organisation)
    .where(_SR.c.volunteer_no == _K)
    .order_by(_SR.c.date.desc(), _SR.c.record_id.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_QUALIFYING = (
    select(_SR.c.date, _SR.c.hours)
    .where(_SR.c.volunteer_no == _K, _SR.c.excluded_kind.is_(None), _COUNTED)
    .order_by(_SR.c.date, _SR.c.record_id)
    .execution_options(yield_per=5000)  # set here: a new statement per call has no cache key
)
_STANDING = (
    select(_SR.c.date, _SR.c.recorded_on, _SR.c.hours, _SR.c.excluded_kind)
    .where(_SR.c.volunteer_no == _K)
    .order_by(_SR.c.date, _SR.c.record_id)
    .execution_options(yield_per=5000)
)
_TRAININGS = select(_TR).where(_TR.c.volunteer_no == _K).order_by(_TR.c.date.desc(), _TR.c.row_id)
_BIRTH = select(_V.c.birth_date).where(_V.c.volunteer_no == _K)
_HONOURS = history.events_query(
    _HO, "honour_id", where=[_HO.c.subject_kind == _KIND, _HO.c.subject == _K]
)
_ABOUT = {
    (table, order): select(content_tables[table])
    .where(content_tables[table].c.subject_kind == _KIND, content_tables[table].c.subject == _K)
    .order_by(content_tables[table].c[order].desc(), content_tables[table].c.row_id)
    for table, order in (("complaints", "received_on"), ("other_info", "provided_on"))
}

# The classes read only if the subject has rows in them: one query finds which (most people
# have no honour, complaint, case or other info, and most no training).
_PROBED: dict[InfoClass, ColumnElement[bool]] = {
    InfoClass.TRAINING: _TR.c.volunteer_no == _K,
    **{
        cls: (content_tables[t].c.subject_kind == _KIND) & (content_tables[t].c.subject == _K)
        for cls, t in (
            (InfoClass.HONOURS, "honours"),
            (InfoClass.COMPLAINTS, "complaints"),
            (InfoClass.CASES, "penalties"),
            (InfoClass.OTHER, "other_info"),
        )
    },
}
PROBED_CLASSES = frozenset(_PROBED)
_HOLDS = select(*(exists().where(cond).label(cls.value) for cls, cond in _PROBED.items()))


def classes_with_rows(conn: Connection, subject: Subject) -> frozenset[InfoClass]:
    """Which of :data:`PROBED_CLASSES` hold rows about ``subject``, in one query: a class left
    out has none, so reading it would give an empty list."""
    row = conn.execute(_HOLDS, {"kind": subject.kind, "key": subject.key}).one()
    return frozenset(cls for cls, present in zip(_PROBED, row, strict=True) if present)


def find_subject(conn: Connection, kind: str, key: str) -> Subject | None:
    """The subject ``kind``/``key`` if the store holds it."""
    if kind not in _FIND:
        return None
    name = conn.execute(_FIND[kind], {"key": key}).scalar_one_or_none()
    return None if name is None else Subject(kind, key, name)


def basic_info(conn: Connection, subject: Subject, today: date | None = None) -> dict[str, Any]:
    """The subject's register row, every contract field included (BJ-7, CQ-6/7), with the name
    of its region as ``region_name``; for an organisation on ``today``, its identification with
    the decisions recorded since the import (HN-1a–c)."""
    data = _basic(conn, subject.kind, subject.key, today)
    if data is None:
        raise NoResultFound("No row was found when one was required")  # as .one() did
    return data


def find_with_basic(
    conn: Connection, kind: str, key: str, today: date
) -> tuple[Subject, dict[str, Any]] | None:
    """:func:`find_subject` and its :func:`basic_info` on ``today`` from one lookup, or None if
    the store does not hold the subject."""
    data = _basic(conn, kind, key, today) if kind in _BASIC else None
    return None if data is None else (Subject(kind, key, data["name"]), data)


def _basic(conn: Connection, kind: str, key: str, today: date | None) -> dict[str, Any] | None:
    found = _dicts(conn.execute(_BASIC[kind], {"key": key}))
    if not found:
        return None
    data = found[0]
    data.pop("row_id", None)
    data.pop("source_line", None)
    data["region_name"] = data["region_name"] or data["region"]
    if kind == "organisation" and today is not None:
        current = identification.state(data, identification.decisions(conn, today, key), today)
        data["identified_on"] = current.identified_on
        data["identification_basis"] = current.basis
        data["identification_removed_on"] = current.removed_on
    return data


@dataclass(frozen=True)
class HoursSummary:
    """Totals over a volunteer's service records (CQ-9, CQ-19, HN-2b)."""

    records: int
    excluded_records: int
    all_hours: Decimal
    stars: StarStanding


def hours_summary(conn: Connection, volunteer_no: str, today: date | None = None) -> HoursSummary:
    """Qualifying hours exclude every HN-2b record and count, like certificates, the records
    dated and entered by ``today``; the star level follows them (CQ-19)."""
    params = {"key": volunteer_no, "today": today or date.max}
    total, excluded, all_hours, qualifying = conn.execute(_HOURS, params).one()
    return HoursSummary(total, excluded, _hours(all_hours), star_standing(_hours(qualifying)))


def star_history(
    conn: Connection, volunteer_no: str, today: date | None = None
) -> list[StarReached]:
    """When each star level was reached (CQ-19), from the qualifying records dated and entered
    by ``today`` in date order (HN-2b records excluded), streamed."""
    params = {"key": volunteer_no, "today": today or date.max}
    rows = conn.execute(_QUALIFYING, params)
    return stars_reached((day, _hours(hours)) for day, hours in rows)


def service_standing(
    conn: Connection, volunteer_no: str, today: date
) -> tuple[HoursSummary, list[StarReached]]:
    """:func:`hours_summary` and :func:`star_history` on ``today`` from one pass over the
    volunteer's records in date order (the self-query page: one query instead of two). The
    same rules: HN-2b records never qualify, nor records dated or entered after ``today``."""
    total = excluded = 0
    all_hours = Decimal(0)
    qualifying: list[tuple[date, Decimal]] = []
    for day, recorded_on, hours, kind in conn.execute(_STANDING, {"key": volunteer_no}):
        total += 1
        if kind is not None:
            excluded += 1
        if hours is None:  # as SUM skips it (the contract requires hours)
            continue
        all_hours += hours
        counted = day is not None and recorded_on is not None and max(day, recorded_on) <= today
        if kind is None and counted:
            qualifying.append((day, hours))
    summary = HoursSummary(
        total, excluded, all_hours, star_standing(sum((h for _, h in qualifying), Decimal(0)))
    )
    return summary, stars_reached(qualifying)


def _hours(raw: Any) -> Decimal:
    """A SUM over the hundredths column: SQLAlchemy hands back the column type only sometimes."""
    if isinstance(raw, Decimal):
        return raw
    return Decimal(int(raw)) / 100


def service_records(
    conn: Connection, volunteer_no: str, offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """One page of service records, newest first, each with its HN-2b reason if excluded."""
    out = _dicts(conn.execute(_RECORDS, {"key": volunteer_no, "offset": offset, "limit": limit}))
    for data in out:
        kind = data.get("excluded_kind")
        data["excluded_reason"] = EXCLUDED_REASONS.get(int(kind)) if kind is not None else None
    return out


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Each row as a dict of its columns (faster than ``dict(row._mapping)``, same content)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def trainings(conn: Connection, volunteer_no: str) -> list[dict[str, Any]]:
    """Training records, newest first (CQ-11)."""
    return _dicts(conn.execute(_TRAININGS, {"key": volunteer_no}))


@dataclass(frozen=True)
class HeldHonour:
    """An honour with whether the site shows it today and whether deletion was asked (BJ-17b)."""

    row: dict[str, Any]
    public: bool
    public_reason: str
    deletion_requested_on: date | None


def honours(conn: Connection, subject: Subject, today: date) -> list[HeldHonour]:
    """All the subject's honours (CQ-12, BJ-8), public or not, with the visibility decision."""
    params = {"kind": subject.kind, "key": subject.key}
    rows = list(history.rows_with_events(conn, _HONOURS, _HO, "honour_id", params))
    born = None
    if rows and subject.kind == "person":  # most people hold no honour: no lookup then
        born = conn.execute(_BIRTH, {"key": subject.key}).scalar_one_or_none()
    out = []
    for row, recorded in rows:
        requested = min(
            (e.date for e in recorded if e.event == "deletion_requested" and e.date <= today),
            default=None,
        )
        adult = subject.kind != "person" or (
            born is not None and age_on(born, row["awarded_on"]) >= ADULT_AGE
        )
        item = HonourItem(subject.kind, row["awarded_on"], adult, requested)
        decision = visibility(item, today)
        out.append(HeldHonour(row, decision.public, decision.reason, requested))
    out.sort(key=lambda x: (x.row["awarded_on"], x.row["honour_id"]), reverse=True)
    return out


def _rows_about(conn: Connection, table: str, subject: Subject, order: str) -> list[dict[str, Any]]:
    params = {"kind": subject.kind, "key": subject.key}
    return _dicts(conn.execute(_ABOUT[(table, order)], params))


def complaints(conn: Connection, subject: Subject) -> list[dict[str, Any]]:
    """Complaints about the subject, verified and recorded (CQ-13)."""
    return _rows_about(conn, "complaints", subject, "received_on")


def other_info(conn: Connection, subject: Subject) -> list[dict[str, Any]]:
    """Other information (BJ-10)."""
    return _rows_about(conn, "other_info", subject, "provided_on")


def credit_cases(
    conn: Connection, subject: Subject, today: date, periods: PublicityPeriods
) -> list[CaseView]:
    """The subject's bad-info cases with state, next deadline and public state (BJ-16–18)."""
    return list(cases(conn, today, periods, subject=(subject.kind, subject.key)))


def classes_for(kind: str) -> tuple[InfoClass, ...]:
    """The information classes that exist for a subject of ``kind``."""
    return CLASSES.get(kind, ())


def parse_classes(values: list[str], kind: str) -> tuple[InfoClass, ...]:
    """The classes named in ``values`` that exist for ``kind``; unknown names raise ValueError."""
    allowed = classes_for(kind)
    chosen = []
    for value in values:
        try:
            cls = InfoClass(value)
        except ValueError:
            raise ValueError(f"未知的信息类别：{value}") from None
        if cls not in allowed:
            raise ValueError(f"该主体没有这一类信息：{cls.label}")
        if cls not in chosen:
            chosen.append(cls)
    return tuple(c for c in allowed if c in chosen)


def iter_classes(stored: str) -> Iterator[InfoClass]:
    """Classes stored as a comma-separated string."""
    for part in stored.split(","):
        if part:
            yield InfoClass(part)
