"""The one visibility function: is this item public on this date, and in which form?

(PUB-1 to PUB-6, BJ-3, BJ-16a, BJ-16d, BJ-17b, BJ-18.) Nothing else in the code base decides
visibility: the generator, the portal, the search index and every export ask :func:`visibility`,
and render only the fields :func:`public_fields` names, masked through
:func:`volcredit.rules.masking.mask`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import singledispatch

from volcredit.contract import TABLES
from volcredit.rules.cases import LISTED_STATES, CaseState, CaseStatus


@dataclass(frozen=True)
class Decision:
    """Public or not, why (with the rule), and the form an item takes when public."""

    public: bool
    rule: str
    reason: str
    mask_person_name: bool = False
    objection_pending: bool = False  # PUB-6 "异议处理中"
    corrected_on: date | None = None  # PUB-6
    removed_on: date | None = None  # PUB-2 removal of identification


def _deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


@dataclass(frozen=True)
class OrganisationItem:
    identified_on: date | None
    identification_removed_on: date | None


@dataclass(frozen=True)
class HonourItem:
    subject_kind: str  # person | organisation
    awarded_on: date
    subject_adult_on_award: bool  # BJ-3: required, so no caller can forget it
    deletion_requested_on: date | None = None


@dataclass(frozen=True)
class PenaltyItem:
    subject_kind: str
    status: CaseStatus | None  # from rules.cases.replay on the same date


@dataclass(frozen=True)
class NoticeAnnouncementItem:
    """A BJ-16a notice served by internet announcement."""

    status: CaseStatus | None


@dataclass(frozen=True)
class NeverPublicItem:
    """A row of a never-public table (PUB-1, CQ-15), e.g. a service record."""

    table: str


@singledispatch
def visibility(item: object, today: date) -> Decision:
    """Decide whether ``item`` is public on ``today`` and in which form (PUB-1: deny by default)."""
    return _deny("PUB-1", "没有规则公开此类信息")


@visibility.register
def _(item: NeverPublicItem, today: date) -> Decision:
    return _deny("PUB-1", f"{item.table} 从不公开（CQ-15）")


@visibility.register
def _(item: OrganisationItem, today: date) -> Decision:
    if item.identified_on is None or item.identified_on > today:
        return _deny("PUB-2", "未认定为志愿服务组织")
    removed = item.identification_removed_on
    if removed is not None and removed <= today:
        return Decision(True, "PUB-2", "认定已撤销，公开撤销及日期（HN-1c）", removed_on=removed)
    return Decision(True, "PUB-2", "已认定的志愿服务组织")


@visibility.register
def _(item: HonourItem, today: date) -> Decision:
    if item.awarded_on > today:
        return _deny("PUB-3", "尚未授予")
    if item.subject_kind == "organisation":
        return Decision(True, "PUB-3", "组织的良好信息始终公开")
    if not item.subject_adult_on_award:
        return _deny("BJ-3", "未成年人的信息从不公开")
    if item.deletion_requested_on is not None and item.deletion_requested_on <= today:
        return _deny("BJ-17b", "本人已要求删除")
    return Decision(True, "PUB-3", "个人的良好信息，以全名及所在组织或区域公开")


def _penalty_decision(status: CaseStatus | None, subject_kind: str) -> Decision:
    if status is None:
        return _deny("PUB-4", "处罚决定尚未作出")
    if status.state is CaseState.REPAIRED:
        return _deny("BJ-18", "信用修复已通过，停止公示")
    if status.state is CaseState.EXPIRED:
        return _deny("PUB-4", "最长公示期已满")
    if status.state is CaseState.NOT_LISTED:
        return _deny("BJ-16d", "决定不列入")
    if status.state not in LISTED_STATES:
        return _deny("BJ-16d", f"告知程序尚未结束（{status.label}），不公示")
    return Decision(
        True,
        "PUB-4",
        "已列入，公示期内",
        mask_person_name=subject_kind == "person",  # PUB-5
        objection_pending=status.state is CaseState.OBJECTION,  # PUB-6
        corrected_on=status.corrected_on,
    )


@visibility.register
def _(item: PenaltyItem, today: date) -> Decision:
    return _penalty_decision(item.status, item.subject_kind)


@visibility.register
def _(item: NoticeAnnouncementItem, today: date) -> Decision:
    s = item.status
    if s is None or s.state is not CaseState.ANNOUNCED:
        return _deny("BJ-16a", "不在公告告知期内")
    # BJ-16a: the announcement serves notice; a person's name is masked and no ID number is shown.
    return Decision(True, "BJ-16a", "公告送达告知书", mask_person_name=True)


def public_fields(table: str) -> tuple[str, ...]:
    """The fields of ``table`` that may appear in a public output (PUB-1, data contract)."""
    spec = TABLES[table]
    if spec.never_public:
        return ()
    return tuple(f.name for f in spec.fields if f.public)
