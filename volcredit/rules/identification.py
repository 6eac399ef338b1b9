"""Identification of volunteer-service organisations (HN-1a, HN-1b, HN-1c)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NAME_KEYWORDS = ("志愿服务", "志愿者", "义工")  # HN-1a


def name_qualifies(name: str) -> bool:
    """HN-1a: the name contains 志愿服务, 志愿者 or 义工."""
    return any(k in name for k in NAME_KEYWORDS)


@dataclass(frozen=True)
class OrganisationStanding:
    name: str
    charter_volunteer_purpose: bool
    identified_on: date | None
    identification_basis: str | None
    identification_removed_on: date | None


def identification_findings(
    org: OrganisationStanding, state: Identification, today: date
) -> list[tuple[str, str]]:
    """Where identification on ``today`` contradicts HN-1a–c, as ``(rule, message)`` pairs."""
    org = with_charter(org, state)
    findings: list[tuple[str, str]] = []
    if state.identified(today):
        if not org.charter_volunteer_purpose:
            findings.append(("HN-1c", "章程已无志愿服务宗旨，应撤销认定并公告"))
        if state.basis == "name_keyword" and not name_qualifies(org.name):
            findings.append(("HN-1a", "按名称直接认定，但名称不含“志愿服务”“志愿者”或“义工”"))
    elif org.charter_volunteer_purpose and name_qualifies(org.name):
        findings.append(("HN-1a", "名称和章程均符合直接认定条件，尚未认定"))
    if state.requested_on is not None and not state.identified(today):
        findings.append(("HN-1b", f"{state.requested_on.isoformat()} 提出的认定申请尚未办理"))
    return findings


# Identification decisions recorded after the import, as history events on the organisation's
# USCC (HN-1a–c). The imported columns are the starting state; later events override them.
REQUESTED = "identification_requested"  # HN-1b: the organisation asks
IDENTIFIED_DIRECT = "identified_direct"  # HN-1a: name keyword + charter purpose
IDENTIFIED_ON_REQUEST = "identified_on_request"  # HN-1b: after charter verification
REFUSED = "identification_refused"  # HN-1b: the charter has no volunteer-service purpose
REMOVED = "identification_removed"  # HN-1c: the amended charter dropped the purpose
EVENTS = (REQUESTED, IDENTIFIED_DIRECT, IDENTIFIED_ON_REQUEST, REFUSED, REMOVED)
BASIS = {IDENTIFIED_DIRECT: "name_keyword", IDENTIFIED_ON_REQUEST: "charter_verified"}


@dataclass(frozen=True)
class Decision:
    """One recorded identification event (in history order)."""

    event: str
    date: date
    charter: bool | None = None  # the charter as the officer confirmed it for this decision


@dataclass(frozen=True)
class Identification:
    """An organisation's identification on a date: imported facts with later decisions applied."""

    identified_on: date | None
    basis: str | None
    removed_on: date | None
    requested_on: date | None  # an open HN-1b request, not yet decided
    charter: bool | None = None  # the charter as last confirmed by an officer (HN-1b, HN-1c)

    def identified(self, today: date) -> bool:
        """Identified and not removed on ``today``."""
        return (
            self.identified_on is not None
            and self.identified_on <= today
            and (self.removed_on is None or self.removed_on > today)
        )


def replay(org: OrganisationStanding, decisions: list[Decision], today: date) -> Identification:
    """Apply the decisions dated on or before ``today``, in order, to the imported state; the
    charter an officer confirmed with a decision stands until the next confirmation."""
    state = Identification(
        org.identified_on, org.identification_basis, org.identification_removed_on, None
    )
    for d in decisions:
        if d.date > today:
            continue
        identified_on, basis, removed_on, requested_on = (
            state.identified_on,
            state.basis,
            state.removed_on,
            state.requested_on,
        )
        if d.event == REQUESTED:
            requested_on = d.date
        elif d.event in BASIS:
            identified_on, basis, removed_on, requested_on = d.date, BASIS[d.event], None, None
        elif d.event == REFUSED:
            requested_on = None
        elif d.event == REMOVED:
            removed_on, requested_on = d.date, None
        charter = state.charter if d.charter is None else d.charter
        state = Identification(identified_on, basis, removed_on, requested_on, charter)
    return state


def with_charter(org: OrganisationStanding, state: Identification) -> OrganisationStanding:
    """The organisation with the charter as last confirmed by an officer, if any (HN-1c: a
    removal for an amended charter stands until a new charter is confirmed)."""
    if state.charter is None or state.charter == org.charter_volunteer_purpose:
        return org
    return OrganisationStanding(
        org.name,
        state.charter,
        org.identified_on,
        org.identification_basis,
        org.identification_removed_on,
    )


Problem = tuple[str, str] | None


def _request(org: OrganisationStanding, state: Identification, today: date) -> Problem:
    if state.identified(today):
        return "HN-1b", "该组织已被认定为志愿服务组织，无需申请"
    if state.requested_on is not None:
        return "HN-1b", f"该组织已于 {state.requested_on.isoformat()} 提出申请，正在办理"
    return None


def _direct(org: OrganisationStanding, state: Identification, today: date) -> Problem:
    if state.identified(today):
        return "HN-1a", "该组织已被认定"
    if not name_qualifies(org.name):
        return "HN-1a", "名称不含“志愿服务”“志愿者”或“义工”，不能直接认定，应由组织申请（HN-1b）"
    if not org.charter_volunteer_purpose:
        return "HN-1a", "章程未载明以开展志愿服务为宗旨，不能直接认定"
    return None


def _answer(org: OrganisationStanding, state: Identification, today: date) -> Problem:
    if state.identified(today):
        return "HN-1b", "该组织已被认定"
    if state.requested_on is None:
        return "HN-1b", "该组织没有待办的认定申请"
    return None


def _on_request(org: OrganisationStanding, state: Identification, today: date) -> Problem:
    problem = _answer(org, state, today)
    if problem is None and not org.charter_volunteer_purpose:
        return "HN-1b", "章程核准未确认以开展志愿服务为宗旨，不能认定"
    return problem


def _remove(org: OrganisationStanding, state: Identification, today: date) -> Problem:
    if not state.identified(today):
        return "HN-1c", "该组织当前未被认定，无可撤销"
    if org.charter_volunteer_purpose:
        return "HN-1c", "只有修改后的章程不再以开展志愿服务为宗旨时，才撤销认定"
    return None


_CHECKS = {
    REQUESTED: _request,
    IDENTIFIED_DIRECT: _direct,
    IDENTIFIED_ON_REQUEST: _on_request,
    REFUSED: _answer,
    REMOVED: _remove,
}


def decision_problem(
    event: str, org: OrganisationStanding, state: Identification, today: date
) -> Problem:
    """Why ``event`` may not be recorded for ``org`` on ``today``, as ``(rule, message)``.

    ``org.charter_volunteer_purpose`` is the charter as staff have verified it for this decision
    (HN-1b, HN-1c): the caller passes what the staff member confirmed, not only what was imported.
    """
    check = _CHECKS.get(event)
    if check is None:
        return "HN-1a", f"未知的认定事项 {event}"
    return check(org, state, today)
