"""Taking a step in a bad-info case (BJ-16, BJ-17a, BJ-18): checked against the case's state on
its date, then appended to the hash-chained history with the files it carries (BJ-23).

Staff pages, the subject's portal pages and ``volcredit record-events`` all call
:func:`record`, inside their write transaction and under the history lock, so two people
cannot both decide a case. The state of a case is always :func:`volcredit.rules.cases.replay`
over its events; nothing here stores a state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from volcredit.case_steps import STEPS, Step, Upload, problems, sniff
from volcredit.overview import store_calendar
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import CaseEvent, CaseStatus, EventMisfit, PenaltyFacts, refusal, replay
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.schema import case_files, content_tables
from volcredit.store.schema import history as history_table

penalties = content_tables["penalties"]
_FILE_META = [c for c in case_files.columns if c.name != "content"]


class StepRefused(ValueError):
    """A step the rules do not allow now, with the rule and, per form field, what is wrong."""

    def __init__(self, rule: str, message: str, fields: dict[str, str] | None = None) -> None:
        self.rule = rule
        self.fields = fields or {}
        super().__init__(message)


@dataclass(frozen=True)
class CaseRecord:
    """A case as held: the penalty, its status on a date, every history entry and file."""

    penalty: dict[str, Any]
    status: CaseStatus | None
    entries: list[history.Entry]
    files: dict[int, list[dict[str, Any]]]  # by the seq of the entry that filed them
    calendar: WorkingCalendar
    error: str | None = None

    @property
    def facts(self) -> PenaltyFacts:
        p = self.penalty
        return PenaltyFacts(p["case_id"], p["decided_on"], p["severity"])

    def events(self, until: date = date.max) -> list[CaseEvent]:
        return [CaseEvent(e.event, e.date) for e in self.entries if e.date <= until]

    def entry(self, seq: int) -> history.Entry | None:
        return next((e for e in self.entries if e.seq == seq), None)


def load(
    conn: Connection, case_id: str, today: date, periods: PublicityPeriods
) -> CaseRecord | None:
    """The case ``case_id`` with its status on ``today``; ``None`` if there is no such case or
    it was decided after ``today``."""
    row = conn.execute(select(penalties).where(penalties.c.case_id == case_id)).first()
    if row is None or row.decided_on > today:
        return None
    entries = [e for e in history.entries(conn, case_id) if e.date <= today]
    files: dict[int, list[dict[str, Any]]] = {}
    query = select(*_FILE_META).where(case_files.c.ref == case_id).order_by(case_files.c.seq)
    for f in conn.execute(query):
        files.setdefault(f.seq, []).append(dict(f._mapping))
    calendar = store_calendar(conn)
    record = CaseRecord(dict(row._mapping), None, entries, files, calendar)
    try:
        status = replay(record.facts, record.events(), today, calendar, periods)
    except EventMisfit as misfit:
        return CaseRecord(
            record.penalty, None, entries, files, calendar, f"[{misfit.rule}] {misfit}"
        )
    return CaseRecord(record.penalty, status, entries, files, calendar)


def why_not(record: CaseRecord, step: Step, today: date, periods: PublicityPeriods) -> str | None:
    """Why ``step`` cannot be taken in this case on ``today`` (with its rule), or ``None``."""
    found = refusal(
        record.facts, record.events(), CaseEvent(step.event, today), record.calendar, periods
    )
    if found is None:
        return None
    if isinstance(found, CalendarGapError):
        return f"{found}（PERIOD）"
    return f"{found}（{found.rule}）"


def open_steps(
    record: CaseRecord, today: date, periods: PublicityPeriods, *, by_subject: bool
) -> dict[str, str | None]:
    """Every step the subject (or staff) could take, with why not where it cannot be taken."""
    return {
        event: why_not(record, step, today, periods)
        for event, step in STEPS.items()
        if step.by_subject or not by_subject
    }


def record(
    conn: Connection,
    case_id: str,
    event: str,
    *,
    today: date,
    actor: str,
    source: str,
    now: datetime,
    periods: PublicityPeriods,
    texts: dict[str, str] | None = None,
    uploads: list[Upload] | None = None,
    subject: tuple[str, str] | None = None,
) -> history.Entry:
    """Append one step dated ``today`` to the case after checking it (BJ-16–18); raises
    :class:`StepRefused`. ``subject`` (kind, key) is given when the subject takes the step:
    only their own case, and only a step the subject may take."""
    step = STEPS.get(event)
    if step is None:
        raise StepRefused("BJ-16", f"没有这个案件步骤：{event}", {"event": "请选择一个步骤"})
    history.lock(conn)
    found = load(conn, case_id, today, periods)
    owner = found and (found.penalty["subject_kind"], found.penalty["subject"])
    if found is None or (subject and owner != subject):
        decided = conn.execute(
            select(penalties.c.decided_on).where(penalties.c.case_id == case_id)
        ).scalar_one_or_none()
        if decided is not None and subject is None:  # staff and batch: say why
            raise StepRefused("BJ-16", f"步骤日期早于处罚决定日期（{decided.isoformat()}）")
        raise StepRefused("BJ-16", f"没有这个不良信息案件：{case_id}")
    if subject and not step.by_subject:
        raise StepRefused(step.rule, f"“{step.label}”由登记机关办理")
    given_texts = {t.name: (texts or {}).get(t.name, "").strip() for t in step.texts}
    given = uploads or []
    wrong = problems(step, given_texts, given)
    if wrong:
        raise StepRefused(step.rule, "请改正标出的内容", wrong)
    # Events dated after today are in the history too: a backdated step is refused.
    later = [e for e in history.entries(conn, case_id) if e.date > today]
    events = found.events() + [CaseEvent(e.event, e.date) for e in later]
    problem = refusal(found.facts, events, CaseEvent(event, today), found.calendar, periods)
    if isinstance(problem, CalendarGapError):
        raise StepRefused("PERIOD", f"{problem}；请先载入该年的 workdays 工作日历")
    if problem is not None:
        raise StepRefused(problem.rule, str(problem))
    if step.document and event.startswith("notice_"):
        _deadline_known(found, event, today, periods)
    files = [_file_meta(up) for up in given]
    payload: dict[str, Any] = {"texts": {k: v for k, v in given_texts.items() if v}}
    if files:
        payload["files"] = [{k: f[k] for k in ("kind", "name", "sha256", "size")} for f in files]
    entry = history.append(
        conn, [history.NewEvent(case_id, event, today, actor, source, None, payload)], now
    )[0]
    for index, (f, up) in enumerate(zip(files, given, strict=True)):
        key = f"{entry.seq}|{index}|{f['kind']}|{f['sha256']}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        row = {**f, "file_id": digest, "ref": case_id, "seq": entry.seq, "content": up.data}
        conn.execute(insert(case_files).values(**row, recorded_at=now))
    return entry


def _deadline_known(found: CaseRecord, event: str, today: date, periods: PublicityPeriods) -> None:
    """A notice states the subject's deadline (BJ-16a/b): without the year's calendar it cannot."""
    status = replay(
        found.facts, [*found.events(), CaseEvent(event, today)], today, found.calendar, periods
    )
    deadline = status.next_deadline if status else None
    if deadline is not None and deadline.error:
        raise StepRefused(
            "PERIOD",
            f"{deadline.error}；告知书须写明陈述申辩期限，请先载入该年的 workdays 工作日历",
        )
    if status and deadline and deadline.date and deadline.date >= status.publicity_max_end:
        end = status.publicity_max_end.isoformat()
        raise StepRefused("PUB-4", f"陈述申辩期限届满时最长公示期（至 {end}）已过，不能再告知列入")


def _file_meta(up: Upload) -> dict[str, Any]:
    return {
        "kind": up.kind,
        "name": ("".join(ch for ch in up.name if ch.isprintable()) or up.kind)[:200],
        "media_type": sniff(up.data) or "application/octet-stream",
        "size": len(up.data),
        "sha256": hashlib.sha256(up.data).hexdigest(),
    }


def file_of(conn: Connection, case_id: str, file_id: str) -> tuple[str, str, bytes] | None:
    """A filed file of the case: its name, type and bytes, or ``None``."""
    row = conn.execute(
        select(case_files.c.name, case_files.c.media_type, case_files.c.content).where(
            case_files.c.ref == case_id, case_files.c.file_id == file_id
        )
    ).first()
    return None if row is None else (row.name, row.media_type, row.content)


def file_problems(conn: Connection) -> Iterator[str]:
    """Filed files that no longer match the history entry that filed them (BJ-23): the entry's
    payload holds each file's SHA-256, and the chain holds the payload. Streamed, file by file."""
    h = history_table
    query = (
        select(case_files.c.file_id, case_files.c.seq, case_files.c.content, h.c.payload)
        .outerjoin(h, h.c.seq == case_files.c.seq)
        .order_by(case_files.c.seq)
    )
    for row in conn.execute(query.execution_options(yield_per=20)):
        digest = hashlib.sha256(row.content).hexdigest()
        filed = {f.get("sha256") for f in (row.payload or {}).get("files", [])}
        if digest not in filed:
            yield f"案件材料 {row.file_id[:16]}… 与第 {row.seq} 条历史记录登记的 SHA-256 不符"
