"""The written documents of a bad-info case (BJ-16a notice, BJ-16c decision, BJ-17a answer,
BJ-18 repair decision): what each states, as titled sections, from the case and one step.

A document is a pure function of the penalty, the subject's name, the step's history entry and
the case's status right after it, so it reads the same whenever it is printed; the portal
renders it as printable HTML and PDF, ``volcredit case-document`` writes it to a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from volcredit.case_actions import CaseRecord
from volcredit.case_steps import STEPS
from volcredit.labels import CATEGORIES
from volcredit.rules.cases import (
    ANNOUNCEMENT_DAYS,
    OBJECTION_WORKING_DAYS,
    STATEMENT_WORKING_DAYS,
    VERIFICATION_WORKING_DAYS,
    CaseEvent,
    CaseStatus,
    replay,
)
from volcredit.settings import PublicityPeriods
from volcredit.store.history import Entry

SEVERITY = {"general": "一般", "serious": "严重"}


@dataclass(frozen=True)
class Document:
    title: str
    number: str
    addressee: str
    sections: tuple[tuple[str, str], ...]
    authority: str
    dated: date


def long_date(day: date | None) -> str:
    """A date as documents write it: 2026年1月5日."""
    return f"{day.year}年{day.month}月{day.day}日" if day else "（无法计算）"


_d = long_date


def number_of(case_id: str, entry: Entry) -> str:
    """The document number: the case and the history entry it records."""
    return f"{case_id}-{entry.seq:06d}"


def _window(p: dict[str, Any], s: CaseStatus) -> str:
    severity = SEVERITY.get(p["severity"], p["severity"])
    return (
        f"本案属{severity}情形，公示期自处罚决定之日（{_d(p['decided_on'])}）起计算，"
        f"最短至 {_d(s.publicity_min_end)}，最长至 {_d(s.publicity_max_end)}。"
    )


def _facts(p: dict[str, Any]) -> tuple[str, str]:
    category = CATEGORIES.get(p["category"], str(p["category"]))
    return (
        "事实",
        f"{p['facts']}（{p['authority']}处罚决定 {p['decision_no']}，{_d(p['decided_on'])}；"
        f"类别：{category}）",
    )


def _repair_from(s: CaseStatus) -> str:
    return _d(s.publicity_min_end + timedelta(days=1))


def document_of(
    record: CaseRecord, seq: int, subject_name: str, periods: PublicityPeriods
) -> Document | None:
    """The written document of the case's history entry ``seq``, or ``None`` if that entry
    produces none: the case is replayed up to and including the entry."""
    entry = record.entry(seq)
    if entry is None or STEPS.get(entry.event) is None or STEPS[entry.event].document is None:
        return None
    before = [e for e in record.entries if e.seq <= seq]
    events = [CaseEvent(e.event, e.date) for e in before]
    after = replay(record.facts, events, entry.date, record.calendar, periods)
    if after is None:
        return None
    received = [e.date for e in before if e.event == "published_objection_received"]
    return document(record.penalty, subject_name, entry, after, received[-1] if received else None)


def document(
    penalty: dict[str, Any],
    subject_name: str,
    entry: Entry,
    after: CaseStatus,
    objection_on: date | None = None,
) -> Document | None:
    """The written document of ``entry`` given the status right ``after`` it (``None`` for a
    step that produces none); ``objection_on`` is when the objection it answers arrived."""
    step = STEPS.get(entry.event)
    if step is None or step.document is None:
        return None
    texts: dict[str, str] = (entry.payload or {}).get("texts", {})
    p, s = penalty, after
    deadline = s.next_deadline.date if s.next_deadline else None
    sections: list[tuple[str, str]] = []
    if entry.event in ("notice_served", "notice_announced"):
        if entry.event == "notice_served":
            period = f"自收到本告知书之日起 {STATEMENT_WORKING_DAYS} 个工作日内"
        else:
            period = f"自本公告发布之日起 {ANNOUNCEMENT_DAYS} 日内"
        sections += [
            _facts(p),
            ("理由", texts.get("reasons", "")),
            ("依据", texts.get("basis", "")),
            (
                "权利",
                f"您有权陈述和申辩。请于{period}（截至 {_d(deadline)}）通过志愿服务信用信息门户"
                f"或书面方式提出，并可提交证据材料。本机关将自收到之日起 "
                f"{VERIFICATION_WORKING_DAYS} 个工作日内核查并书面告知结果。",
            ),
            (
                "后果",
                "期限内未提出陈述申辩的，视为无异议，本机关将依法将上述信息列入不良信息并向社会公开。"
                + _window(p, s)
                + f"最短公示期届满后（自 {_repair_from(s)} 起）可申请信用修复。",
            ),
        ]
    elif entry.event in ("decided_listed", "decided_not_listed"):
        sections += [_facts(p), ("核查意见", texts.get("reasons", ""))]
        if entry.event == "decided_listed":
            sections += [
                ("决定", "经核查，决定将上述信息列入不良信息，并依法向社会公开。" + _window(p, s)),
                (
                    "权利",
                    f"对公开的信息有异议的，可以提出异议，本机关自收到之日起 "
                    f"{OBJECTION_WORKING_DAYS} 个工作日内核查并书面答复；最短公示期届满后"
                    f"（自 {_repair_from(s)} 起）可申请信用修复。",
                ),
            ]
        else:
            sections.append(("决定", "经核查，决定不将上述信息列入不良信息，不予公开。"))
    elif entry.event.startswith("published_objection_"):
        upheld = entry.event == "published_objection_upheld"
        sections += [
            ("异议", f"本机关于 {_d(objection_on)} 收到您对公开信息提出的异议。"),
            ("核查结论", texts.get("answer", "")),
        ]
        if upheld:
            sections += [
                (
                    "处理结果",
                    f"异议成立，已于 {_d(entry.date)} 更正：{texts.get('correction', '')}",
                ),
            ]
        else:
            sections.append(("处理结果", "异议不成立，公开信息不作变更。"))
    else:  # repair_approved | repair_rejected
        sections += [_facts(p), ("审核意见", texts.get("reasons", ""))]
        if entry.event == "repair_approved":
            sections.append(("决定", f"准予信用修复，自 {_d(entry.date)} 起停止公开上述不良信息。"))
        else:
            sections.append(
                ("决定", f"不予信用修复，上述信息继续公开至 {_d(s.publicity_max_end)}。")
            )
    return Document(
        step.document,
        number_of(p["case_id"], entry),
        subject_name,
        tuple(sections),
        p["authority"],
        entry.date,
    )
