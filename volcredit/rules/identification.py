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


def identification_findings(org: OrganisationStanding, today: date) -> list[tuple[str, str]]:
    """Where identification on ``today`` contradicts HN-1a–c, as ``(rule, message)`` pairs."""
    identified = org.identified_on is not None and org.identified_on <= today
    removed = org.identification_removed_on is not None and org.identification_removed_on <= today
    findings: list[tuple[str, str]] = []
    if identified and not removed:
        if not org.charter_volunteer_purpose:
            findings.append(("HN-1c", "章程已无志愿服务宗旨，应撤销认定并公告"))
        if org.identification_basis == "name_keyword" and not name_qualifies(org.name):
            findings.append(("HN-1a", "按名称直接认定，但名称不含“志愿服务”“志愿者”或“义工”"))
    elif not identified and org.charter_volunteer_purpose and name_qualifies(org.name):
        findings.append(("HN-1a", "名称和章程均符合直接认定条件，尚未认定"))
    return findings
