"""Identification findings of HN-1 (HN-1a direct, HN-1b on request, HN-1c removal)."""

from __future__ import annotations

from datetime import date

from volcredit.rules import identification as rule
from volcredit.rules.identification import (
    Decision,
    OrganisationStanding,
    decision_problem,
    name_qualifies,
    replay,
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


def identification_findings(
    standing: OrganisationStanding, today: date, decisions: list[Decision] | None = None
) -> list[tuple[str, str]]:
    """The findings on the imported facts with ``decisions`` replayed (none by default)."""
    state = replay(standing, decisions or [], today)
    return rule.identification_findings(standing, state, today)


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


def test_hn1a_direct_decision_needs_keyword_and_charter() -> None:
    """HN-1a: staff identify directly only a keyword name with a volunteer-service charter."""
    fresh = replay(org(), [], TODAY)
    assert decision_problem(rule.IDENTIFIED_DIRECT, org(), fresh, TODAY) is None
    no_keyword = org("芙蓉区邻里互助中心")
    problem = decision_problem(rule.IDENTIFIED_DIRECT, no_keyword, fresh, TODAY)
    assert problem is not None and problem[0] == "HN-1a" and "HN-1b" in problem[1]
    no_charter = org(purpose=False)
    assert decision_problem(rule.IDENTIFIED_DIRECT, no_charter, fresh, TODAY) is not None
    identified = replay(org(), [Decision(rule.IDENTIFIED_DIRECT, date(2026, 5, 1))], TODAY)
    assert identified.identified(TODAY) and identified.basis == "name_keyword"
    assert identified.identified_on == date(2026, 5, 1)
    assert decision_problem(rule.IDENTIFIED_DIRECT, org(), identified, TODAY) is not None


def test_hn1b_request_then_verified_charter_identifies() -> None:
    """HN-1b: a request first, then identification only after the charter is verified."""
    other = org("芙蓉区邻里互助中心")
    fresh = replay(other, [], TODAY)
    assert decision_problem(rule.IDENTIFIED_ON_REQUEST, other, fresh, TODAY) == (
        "HN-1b",
        "该组织没有待办的认定申请",
    )
    asked = replay(other, [Decision(rule.REQUESTED, date(2026, 9, 1))], TODAY)
    assert asked.requested_on == date(2026, 9, 1) and not asked.identified(TODAY)
    assert [r for r, _ in identification_findings(other, TODAY, [])] == []
    pending = identification_findings(other, TODAY, [Decision(rule.REQUESTED, date(2026, 9, 1))])
    assert [r for r, _ in pending] == ["HN-1b"]
    assert decision_problem(rule.REQUESTED, other, asked, TODAY) is not None  # asked once
    unverified = org("芙蓉区邻里互助中心", purpose=False)
    assert decision_problem(rule.IDENTIFIED_ON_REQUEST, unverified, asked, TODAY) is not None
    assert decision_problem(rule.REFUSED, unverified, asked, TODAY) is None
    assert decision_problem(rule.IDENTIFIED_ON_REQUEST, other, asked, TODAY) is None
    done = replay(
        other,
        [
            Decision(rule.REQUESTED, date(2026, 9, 1)),
            Decision(rule.IDENTIFIED_ON_REQUEST, date(2026, 9, 10)),
        ],
        TODAY,
    )
    assert done.identified(TODAY) and done.basis == "charter_verified"
    assert done.requested_on is None
    refused = replay(
        other,
        [Decision(rule.REQUESTED, date(2026, 9, 1)), Decision(rule.REFUSED, date(2026, 9, 10))],
        TODAY,
    )
    assert not refused.identified(TODAY) and refused.requested_on is None


def test_hn1c_removal_needs_an_amended_charter_without_the_purpose() -> None:
    """HN-1c: removal only of an identified organisation whose amended charter dropped the
    purpose; from its date the organisation is no longer identified, and earlier it still was."""
    standing = org(identified=date(2024, 1, 1), basis="name_keyword")
    current = replay(standing, [], TODAY)
    assert decision_problem(rule.REMOVED, standing, current, TODAY) is not None  # charter still ok
    amended = org(purpose=False, identified=date(2024, 1, 1), basis="name_keyword")
    assert decision_problem(rule.REMOVED, amended, current, TODAY) is None
    removed = replay(amended, [Decision(rule.REMOVED, date(2026, 10, 8))], TODAY)
    assert removed.removed_on == date(2026, 10, 8) and not removed.identified(TODAY)
    assert removed.identified(date(2026, 10, 7))
    never = replay(org(), [], TODAY)
    assert decision_problem(rule.REMOVED, org(purpose=False), never, TODAY) is not None


def test_hn1_decisions_after_the_date_do_not_count() -> None:
    """A state on a date uses only decisions dated on or before it."""
    later = [Decision(rule.IDENTIFIED_DIRECT, date(2026, 12, 1))]
    assert not replay(org(), later, TODAY).identified(TODAY)
    assert replay(org(), later, date(2026, 12, 1)).identified(date(2026, 12, 1))
