"""The one access decision (BJ-14b, BJ-14c, BJ-23): pure functions of the facts and the date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.builders import ADULT_ID, ORG_A, SECOND_ID
from volcredit.rules.access import (
    CONSENT_MAX_DAYS,
    ConsentFacts,
    Identity,
    consent_access,
    consent_expiry_problem,
    duty_access,
    own_access,
)

ISSUED = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 3, 0)


def consent(**over: object) -> ConsentFacts:
    base = {
        "subject_kind": "person",
        "subject": "V0001",
        "recipient_kind": "person",
        "recipient_id": SECOND_ID,
        "classes": frozenset({"basic", "service"}),
        "issued_on": ISSUED,
        "expires_on": ISSUED + timedelta(days=30),
        "revoked_at": None,
    }
    return ConsentFacts(**{**base, **over})  # type: ignore[arg-type]


RECIPIENT = Identity("person", SECOND_ID)


def test_own_access_only_for_the_subject_bj_14b() -> None:
    """BJ-14b: a subject sees their own record, nobody else's."""
    assert own_access(("person", "V0001"), ("person", "V0001")).allowed
    assert not own_access(("person", "V0001"), ("person", "V0002")).allowed
    assert not own_access(("person", "V0001"), None).allowed
    assert not own_access(("organisation", "V0001"), ("person", "V0001")).allowed


def test_consent_allows_the_named_recipient_and_class_bj_14c() -> None:
    """BJ-14c: the named recipient, a consented class, inside the validity period."""
    decision = consent_access(consent(), RECIPIENT, "service", ISSUED, NOW)
    assert decision.allowed and decision.authority == "consent" and decision.rule == "BJ-14c"
    lower = Identity("person", SECOND_ID.lower())
    assert consent_access(consent(), lower, "basic", ISSUED, NOW).allowed


@pytest.mark.parametrize(
    ("facts", "viewer", "cls", "today", "reason"),
    [
        (consent(), None, "basic", ISSUED, "请先登录"),
        (consent(), Identity("person", ADULT_ID), "basic", ISSUED, "不是授予您的"),
        (consent(), Identity("organisation", SECOND_ID), "basic", ISSUED, "不是授予您的"),
        (consent(), RECIPIENT, "complaints", ISSUED, "不包括这一类"),
        (consent(), RECIPIENT, "basic", ISSUED + timedelta(days=31), "到期"),
        (consent(), RECIPIENT, "basic", ISSUED - timedelta(days=1), "尚未生效"),
        (consent(revoked_at=NOW - timedelta(seconds=1)), RECIPIENT, "basic", ISSUED, "撤回"),
        (
            consent(recipient_kind="organisation", recipient_id=ORG_A),
            RECIPIENT,
            "basic",
            ISSUED,
            "不是授予您的",
        ),
    ],
)
def test_consent_refusals_say_why_bj_14c(
    facts: ConsentFacts, viewer: Identity | None, cls: str, today: date, reason: str
) -> None:
    """BJ-14c: each refusal is a value with its reason (STYLE 4)."""
    decision = consent_access(facts, viewer, cls, today, NOW)
    assert not decision.allowed and reason in decision.reason and decision.rule == "BJ-14c"


def test_last_day_of_a_consent_still_counts_bj_14c() -> None:
    facts = consent(expires_on=ISSUED + timedelta(days=5))
    assert consent_access(facts, RECIPIENT, "basic", ISSUED + timedelta(days=5), NOW).allowed
    assert not consent_access(facts, RECIPIENT, "basic", ISSUED + timedelta(days=6), NOW).allowed


def test_revocation_holds_whatever_the_clocks_say_bj_14c() -> None:
    """BJ-14c: revoked means revoked, even if the revoking server's clock ran ahead."""
    ahead = consent(revoked_at=NOW + timedelta(minutes=1))
    assert not consent_access(ahead, RECIPIENT, "basic", ISSUED, NOW).allowed


def test_expiry_at_most_ninety_days_bj_14c() -> None:
    assert consent_expiry_problem(ISSUED, ISSUED + timedelta(days=CONSENT_MAX_DAYS)) is None
    assert consent_expiry_problem(ISSUED, ISSUED) is None
    assert "90" in (consent_expiry_problem(ISSUED, ISSUED + timedelta(days=91)) or "")
    assert consent_expiry_problem(ISSUED, ISSUED - timedelta(days=1))
    assert consent_expiry_problem(ISSUED, None)


def test_duty_access_needs_role_and_reference_bj_23() -> None:
    """BJ-23: a lookup role and a case or duty reference of 4–100 characters."""
    assert duty_access(frozenset({"case_officer"}), "P1 复核").allowed
    assert duty_access(frozenset({"records_officer"}), "督办〔2026〕3号").allowed
    assert not duty_access(frozenset({"auditor"}), "P1 复核").allowed
    assert not duty_access(frozenset({"case_officer"}), "").allowed
    assert not duty_access(frozenset({"case_officer"}), "   ").allowed
    assert not duty_access(frozenset({"case_officer"}), "P1").allowed
    assert not duty_access(frozenset({"case_officer"}), "x" * 101).allowed
