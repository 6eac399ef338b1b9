"""Who may see a subject's non-public information (BJ-14, BJ-23): one decision, with its reason.

Pure functions of the facts and the date or time passed in. The portal turns a denial's reason
into words for the user in one place; it never decides access itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

CONSENT_MAX_DAYS = 90  # issue 4: a consent runs at most 90 days
STAFF_ROLES = ("records_officer", "case_officer", "auditor", "registry_officer", "inspector")
# registry_officer: identification and the yearly announcement (HN-1a–d);
# inspector: spot checks (HN-2c, HN-2d)
LOOKUP_ROLES = ("records_officer", "case_officer")  # roles that may look a subject up for duty
DUTY_REFERENCE_MIN, DUTY_REFERENCE_MAX = 4, 100


@dataclass(frozen=True)
class Access:
    """Allowed or not, under which authority, and why (STYLE 4)."""

    allowed: bool
    authority: str  # self | consent | duty | none
    rule: str
    reason: str


def _deny(rule: str, reason: str) -> Access:
    return Access(False, "none", rule, reason)


@dataclass(frozen=True)
class ConsentFacts:
    """What a stored consent says (BJ-14c)."""

    subject_kind: str
    subject: str
    recipient_kind: str  # person | organisation
    recipient_id: str  # ID number or USCC
    classes: frozenset[str]
    issued_on: date
    expires_on: date
    revoked_at: datetime | None


@dataclass(frozen=True)
class Identity:
    """Who a logged-in party is, for matching a consent's named recipient: ``kind`` is
    person|organisation, ``key`` an ID number or a USCC."""

    kind: str
    key: str


def same_identifier(a: str, b: str) -> bool:
    """ID numbers and USCCs compare without case or surrounding space (a trailing x is X)."""
    return a.strip().upper() == b.strip().upper()


def own_access(subject: tuple[str, str], own: tuple[str, str] | None) -> Access:
    """BJ-14b: an authenticated subject sees all of their own information."""
    if own is not None and own == subject:
        return Access(True, "self", "BJ-14b", "本人查询")
    return _deny("BJ-14b", "只能查看本人（本组织）的信息")


def consent_access(
    consent: ConsentFacts,
    viewer: Identity | None,
    info_class: str,
    today: date,
    now: datetime,
) -> Access:
    """BJ-14c: a third party sees a class of the subject's non-public information only under an
    unrevoked, unexpired consent naming them and that class."""
    if viewer is None:
        return _deny("BJ-14c", "请先登录")
    if viewer.kind != consent.recipient_kind or not same_identifier(
        viewer.key, consent.recipient_id
    ):
        return _deny("BJ-14c", "该授权书不是授予您的")
    if consent.revoked_at is not None:  # at once, whatever another server's clock says
        return _deny("BJ-14c", "该授权已被本人撤回")
    if today < consent.issued_on:
        return _deny("BJ-14c", "该授权尚未生效")
    if today > consent.expires_on:
        return _deny("BJ-14c", f"该授权已于 {consent.expires_on.isoformat()} 到期")
    if info_class not in consent.classes:
        return _deny("BJ-14c", "该授权不包括这一类信息")
    return Access(True, "consent", "BJ-14c", "依书面授权查询")


def duty_access(roles: frozenset[str], reference: str | None) -> Access:
    """BJ-23: staff query only for duty, stating a case or duty reference."""
    if not roles & set(LOOKUP_ROLES):
        return _deny("BJ-23", "您的角色不能查询个人信息")
    problem = duty_reference_problem(reference)
    if problem:
        return _deny("BJ-23", problem)
    return Access(True, "duty", "BJ-23", "依职责查询")


def duty_reference_problem(reference: str | None) -> str | None:
    """Why ``reference`` is not an acceptable case or duty reference, or None (BJ-23)."""
    text = (reference or "").strip()
    if not text:
        return "请填写案件编号或工作依据（文号、工单号）"
    if not DUTY_REFERENCE_MIN <= len(text) <= DUTY_REFERENCE_MAX:
        return f"案件编号或工作依据应为 {DUTY_REFERENCE_MIN}–{DUTY_REFERENCE_MAX} 个字符"
    return None


def consent_expiry_problem(issued_on: date, expires_on: date | None) -> str | None:
    """Why ``expires_on`` is not an acceptable expiry for a consent issued on ``issued_on``."""
    if expires_on is None:
        return "请填写授权到期日"
    if expires_on < issued_on:
        return "到期日不能早于今天"
    latest = issued_on + timedelta(days=CONSENT_MAX_DAYS)
    if expires_on > latest:
        return f"授权期限最长 {CONSENT_MAX_DAYS} 天（最晚 {latest.isoformat()}）"
    return None
