"""Checks across rows and tables, run in SQL over the staging tables so that memory stays flat:
duplicate keys, dangling references, region levels, CQ-9 daily hours, BJ-3 minors."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from volcredit.contract import TABLES
from volcredit.importer.report import ProblemLog
from volcredit.importer.staging import stage_tables as st
from volcredit.rules.periods import age_on

ADULT_AGE = 18  # BJ-3
MAX_DAILY_HOURS = Decimal(24)  # CQ-9


class Labels(dict[str, str]):
    """Table name -> the file label used in problems (the table's own name if it has no file)."""

    def __missing__(self, table: str) -> str:
        return f"{table}.csv"


def duplicate_keys(conn: Connection, log: ProblemLog, labels: Labels) -> None:
    """Every key is unique within its table."""
    for name, spec in TABLES.items():
        if not spec.key:
            continue
        t = st[name]
        keys = [t.c[k] for k in spec.key]
        dup = select(*keys).where(*(k.is_not(None) for k in keys)).group_by(*keys)
        dup = dup.having(func.count() > 1).subquery()
        rows = (
            select(t.c.source_line, *keys)
            .join(dup, and_(*(t.c[k] == dup.c[k] for k in spec.key)))
            .order_by(*keys, t.c.source_line)
        )
        first: dict[tuple[Any, ...], int] = {}
        for row in conn.execute(rows):
            key = tuple(row[1:])
            if key in first:
                shown = " / ".join(str(k) for k in key)
                log.error(
                    labels[name],
                    row.source_line,
                    spec.key[0],
                    f"重复的 {'、'.join(spec.key)}：{shown}（第 {first[key]} 行已有）",
                )
            else:
                first[key] = row.source_line


# (table, field, target table, target key) for every plain reference.
_REFERENCES: tuple[tuple[str, str, str, str], ...] = tuple(
    (name, f.name, target, key)
    for name, spec in TABLES.items()
    for f in spec.fields
    for kind, target, key in (
        ("region_ref", "regions", "code"),
        ("uscc_ref", "organisations", "uscc"),
        ("volunteer_ref", "volunteers", "volunteer_no"),
    )
    if f.kind == kind
)

_SUBJECT_TARGETS = {
    "person": ("volunteers", "volunteer_no", "志愿者"),
    "organisation": ("organisations", "uscc", "组织"),
}


def dangling_references(conn: Connection, log: ProblemLog, labels: Labels) -> None:
    """Every reference points at a row that exists in this load."""
    for name, field, target, key in _REFERENCES:
        t, u = st[name], st[target].alias("target")
        query = (
            select(t.c.source_line, t.c[field])
            .outerjoin(u, t.c[field] == u.c[key])
            .where(t.c[field].is_not(None), u.c[key].is_(None))
            .order_by(t.c.source_line)
        )
        for line, value in conn.execute(query):
            log.error(labels[name], line, field, f"引用了不存在的 {target}.{key}：{value}")
    for name, spec in TABLES.items():
        if "subject" not in spec.field_names:
            continue
        t = st[name]
        for kind, (target, key, noun) in _SUBJECT_TARGETS.items():
            u = st[target]
            query = (
                select(t.c.source_line, t.c.subject)
                .outerjoin(u, t.c.subject == u.c[key])
                .where(t.c.subject_kind == kind, t.c.subject.is_not(None), u.c[key].is_(None))
                .order_by(t.c.source_line)
            )
            for line, value in conn.execute(query):
                log.error(labels[name], line, "subject", f"没有这个{noun}：{value}")


def region_levels(conn: Connection, log: ProblemLog, labels: Labels) -> None:
    """A city sits under a province, a county under a city or province, with matching codes."""
    child, parent = st["regions"], st["regions"].alias("p")
    query = select(child.c.source_line, child.c.code, child.c.level, parent.c.code, parent.c.level)
    query = query.join(parent, child.c.parent == parent.c.code).order_by(child.c.source_line)
    allowed = {"city": {"province"}, "county": {"city", "province"}}
    for line, code, level, pcode, plevel in conn.execute(query):
        if level is None or plevel is None:
            continue  # an invalid level is already reported on its own row
        if plevel not in allowed.get(level, set()):
            log.error(labels["regions"], line, "parent", f"{level} 级区划的上级不能是 {plevel} 级")
        elif code[:2] != pcode[:2] or (plevel == "city" and code[:4] != pcode[:4]):
            log.error(labels["regions"], line, "parent", f"区划代码 {code} 不在上级 {pcode} 之下")


def daily_hours(conn: Connection, log: ProblemLog, labels: Labels) -> None:
    """CQ-9: one volunteer's hours on one date add up to at most 24."""
    t = st["service_records"]
    total = func.sum(t.c.hours)  # exact: summed as stored hundredths, compared as Decimal
    over = (
        select(t.c.volunteer_no, t.c.date, total.label("total"))
        .where(t.c.volunteer_no.is_not(None), t.c.date.is_not(None), t.c.hours.is_not(None))
        .group_by(t.c.volunteer_no, t.c.date)
        .having(total > MAX_DAILY_HOURS)
        .subquery()
    )
    query = (
        select(t.c.source_line, t.c.volunteer_no, t.c.date, over.c.total)
        .join(over, and_(t.c.volunteer_no == over.c.volunteer_no, t.c.date == over.c.date))
        .order_by(t.c.source_line)
    )
    for line, volunteer, day, hours in conn.execute(query):
        log.error(
            labels["service_records"],
            line,
            "hours",
            f"志愿者 {volunteer} 在 {day.isoformat()} 的时长合计 {hours} 小时，超过 24 小时",
            "CQ-9",
        )


# Credit information about a person and the date of its underlying fact (BJ-3).
_CREDIT_FACT_DATES = (
    ("honours", "awarded_on"),
    ("penalties", "decided_on"),
    ("other_info", "provided_on"),
)


def minors(conn: Connection, log: ProblemLog, labels: Labels) -> None:
    """BJ-3: credit information about a person under 18 on the date of the fact is refused."""
    v = st["volunteers"]
    for name, date_field in _CREDIT_FACT_DATES:
        t = st[name]
        query = (
            select(t.c.source_line, t.c.subject, t.c[date_field], v.c.birth_date)
            .join(v, t.c.subject == v.c.volunteer_no)
            .where(t.c.subject_kind == "person", t.c[date_field].is_not(None))
            .order_by(t.c.source_line)
        )
        for line, subject, day, born in conn.execute(query):
            if born is None:
                log.error(
                    labels[name],
                    line,
                    "subject",
                    f"无法确认志愿者 {subject} 已满 18 周岁（缺少出生日期）",
                    "BJ-3",
                )
            elif age_on(born, day) < ADULT_AGE:
                log.error(
                    labels[name],
                    line,
                    "subject",
                    f"志愿者 {subject} 在 {day.isoformat()} 未满 18 周岁，其信用信息不予采集",
                    "BJ-3",
                )


ALL_CHECKS: tuple[Callable[[Connection, ProblemLog, Labels], None], ...] = (
    duplicate_keys,
    dangling_references,
    region_levels,
    daily_hours,
    minors,
)
