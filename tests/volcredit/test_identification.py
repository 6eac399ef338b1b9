"""Identification findings of HN-1 (HN-1a direct, HN-1b on request, HN-1c removal)."""

from __future__ import annotations

from datetime import date

from volcredit.rules.identification import (
    OrganisationStanding,
    identification_findings,
    name_qualifies,
)

TODAY = date(2026, 11, 21)


def org(
    name: str = "岳麓区义工联合会",
    purpose: bool = True,
    identified: date | None = None,
    basis: str | None = None,
    removed: date | None = None,
) -> OrganisationStanding:
    return OrganisationStanding(name, purpose, identified, basis, removed)


def test_hn1a_name_keywords() -> None:
    """HN-1a: 志愿服务, 志愿者 or 义工 in the name."""
    assert name_qualifies("东城区阳光志愿者协会") and name_qualifies("岳麓区义工联合会")
    assert name_qualifies("湘潭市志愿服务联合会") and not name_qualifies("芙蓉区邻里互助中心")


def test_hn1a_qualifying_but_unidentified_is_reported() -> None:
    assert identification_findings(org(), TODAY) == [
        ("HN-1a", "名称和章程均符合直接认定条件，尚未认定")
    ]
    assert identification_findings(org(purpose=False), TODAY) == []
    assert (
        identification_findings(org(identified=date(2025, 1, 1), basis="name_keyword"), TODAY) == []
    )


def test_hn1a_identified_by_name_without_keyword_is_a_contradiction() -> None:
    findings = identification_findings(
        org("芙蓉区邻里互助中心", identified=date(2025, 1, 1), basis="name_keyword"), TODAY
    )
    assert [rule for rule, _ in findings] == ["HN-1a"]


def test_hn1b_identified_on_request_after_charter_check_is_fine() -> None:
    """HN-1b: another organisation is identified on request once its charter is verified."""
    standing = org("芙蓉区邻里互助中心", identified=date(2025, 1, 1), basis="charter_verified")
    assert identification_findings(standing, TODAY) == []


def test_hn1c_charter_without_purpose_must_lose_identification() -> None:
    """HN-1c: identified, but the amended charter dropped the purpose: removal is due."""
    standing = org(purpose=False, identified=date(2024, 1, 1), basis="name_keyword")
    assert [rule for rule, _ in identification_findings(standing, TODAY)] == ["HN-1c"]
    removed = org(
        purpose=False, identified=date(2024, 1, 1), basis="name_keyword", removed=date(2026, 3, 1)
    )
    assert identification_findings(removed, TODAY) == []
    assert [r for r, _ in identification_findings(removed, date(2026, 2, 28))] == ["HN-1c"]
