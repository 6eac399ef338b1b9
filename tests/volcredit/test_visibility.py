"""The one visibility function (PUB-1..PUB-6, BJ-3, BJ-16a, BJ-16d, BJ-17b, BJ-18)."""

from __future__ import annotations

from datetime import date

from volcredit.contract import TABLES, never_public_fields
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.cases import CaseEvent, PenaltyFacts, replay
from volcredit.rules.visibility import (
    HonourItem,
    NeverPublicItem,
    NoticeAnnouncementItem,
    OrganisationItem,
    PenaltyItem,
    public_fields,
    visibility,
)
from volcredit.settings import PublicityPeriods

CAL, PERIODS = WorkingCalendar(), PublicityPeriods()
FACTS = PenaltyFacts("P1", date(2025, 6, 2), "general")


def penalty(events: list[tuple[str, date]], today: date, kind: str = "person"):  # type: ignore[no-untyped-def]
    status = replay(FACTS, [CaseEvent(e, d) for e, d in events], today, CAL, PERIODS)
    return visibility(PenaltyItem(kind, status), today)


def test_pub1_deny_by_default_and_never_public_tables() -> None:
    """PUB-1: anything no rule makes public is not public."""
    assert not visibility(object(), date(2026, 1, 1)).public
    for table in (
        "service_records",
        "trainings",
        "complaints",
        "other_info",
        "spot_check_findings",
    ):
        d = visibility(NeverPublicItem(table), date(2026, 1, 1))
        assert not d.public and d.rule == "PUB-1"
        assert public_fields(table) == ()


def test_pub1_never_public_fields_are_not_public_fields() -> None:
    """PUB-1, CQ-15: ID numbers, birth dates, phones, addresses never appear in public fields."""
    private = set(never_public_fields())
    for name in TABLES:
        assert not private & {(name, f) for f in public_fields(name)}
    assert {
        ("volunteers", "id_number"),
        ("volunteers", "birth_date"),
        ("volunteers", "phone"),
        ("organisations", "address"),
        ("organisations", "contact_phone"),
    } <= private
    assert "uscc" in public_fields("organisations") and "name" in public_fields("organisations")


def test_pub2_identified_organisations_and_removals() -> None:
    """PUB-2: identified organisations are public; a removal is public with its date."""
    org = OrganisationItem(date(2024, 6, 1), date(2025, 9, 1))
    assert not visibility(org, date(2024, 5, 31)).public
    assert visibility(org, date(2024, 6, 1)).public
    removed = visibility(org, date(2025, 9, 1))
    assert removed.public and removed.removed_on == date(2025, 9, 1)
    assert not visibility(OrganisationItem(None, None), date(2026, 1, 1)).public


def test_pub3_good_info_public_for_organisations_always_for_persons_unless_deleted() -> None:
    """PUB-3, BJ-17b: a person's honour disappears once deletion is requested."""
    org = HonourItem("organisation", date(2025, 3, 1), True, deletion_requested_on=date(2025, 4, 1))
    assert visibility(org, date(2025, 5, 1)).public
    person = HonourItem("person", date(2025, 3, 1), True, deletion_requested_on=date(2025, 4, 1))
    assert not visibility(person, date(2025, 2, 28)).public  # not yet awarded
    assert visibility(person, date(2025, 3, 31)).public
    gone = visibility(person, date(2025, 4, 1))
    assert not gone.public and gone.rule == "BJ-17b"


def test_bj3_nothing_about_a_minor_is_published() -> None:
    """BJ-3: even if such an honour reached the store, it is never public."""
    item = HonourItem("person", date(2025, 3, 1), subject_adult_on_award=False)
    decision = visibility(item, date(2025, 5, 1))
    assert not decision.public and decision.rule == "BJ-3"


NOTICE = [("notice_served", date(2025, 6, 3))]  # period ends 2025-06-17, listed from 06-18


def test_bj16d_pub4_listed_only_after_due_process_and_inside_window() -> None:
    """BJ-16d, PUB-4: the day before listing, the day of, the maximum end, the day after."""
    assert not penalty([], date(2025, 6, 10)).public  # awaiting notice
    notified = penalty(NOTICE, date(2025, 6, 17))
    assert not notified.public and notified.rule == "BJ-16d"
    listed = penalty(NOTICE, date(2025, 6, 18))
    assert listed.public and listed.rule == "PUB-4"
    assert penalty(NOTICE, date(2026, 6, 2)).public  # last day of the maximum (1 year)
    assert not penalty(NOTICE, date(2026, 6, 3)).public
    statement = [*NOTICE, ("statement_received", date(2025, 6, 10))]
    assert not penalty(statement, date(2025, 12, 1)).public
    not_listed = [*statement, ("decided_not_listed", date(2025, 6, 20))]
    assert not penalty(not_listed, date(2025, 12, 1)).public


def test_pub5_person_masked_organisation_in_full() -> None:
    """PUB-5: a person's name is masked in a bad-info entry; an organisation's is not."""
    assert penalty(NOTICE, date(2025, 7, 1), "person").mask_person_name
    assert not penalty(NOTICE, date(2025, 7, 1), "organisation").mask_person_name


def test_pub6_objection_mark_and_correction_date() -> None:
    """PUB-6: "异议处理中" while an objection is handled; the correction date afterwards."""
    objection = [*NOTICE, ("published_objection_received", date(2025, 7, 1))]
    pending = penalty(objection, date(2025, 7, 2))
    assert pending.public and pending.objection_pending
    corrected = penalty(
        [*objection, ("published_objection_upheld", date(2025, 7, 8))], date(2025, 7, 9)
    )
    assert corrected.public and not corrected.objection_pending
    assert corrected.corrected_on == date(2025, 7, 8)


def test_bj18_repair_ends_publication_from_the_repair_date() -> None:
    events = [*NOTICE, ("repair_applied", date(2025, 9, 3)), ("repair_approved", date(2025, 9, 20))]
    assert penalty(events, date(2025, 9, 19)).public  # still public while the repair is pending
    gone = penalty(events, date(2025, 9, 20))
    assert not gone.public and gone.rule == "BJ-18"


def test_bj16a_announcement_public_during_its_period_with_masked_name() -> None:
    """BJ-16a: notice by internet announcement is published (masked name, never an ID)."""
    facts = FACTS
    events = [CaseEvent("notice_announced", date(2025, 9, 1))]
    during = replay(facts, events, date(2025, 9, 15), CAL, PERIODS)
    decision = visibility(NoticeAnnouncementItem(during), date(2025, 9, 15))
    assert decision.public and decision.mask_person_name
    after = replay(facts, events, date(2025, 10, 10), CAL, PERIODS)
    assert not visibility(NoticeAnnouncementItem(after), date(2025, 10, 10)).public


def test_pub8_decision_depends_only_on_facts_dated_up_to_the_date() -> None:
    """PUB-8: the decision for a date is fixed by the facts dated on or before it: adding later
    events (an objection, a repair) never changes what was public that day."""
    later = [
        ("published_objection_received", date(2025, 9, 1)),
        ("published_objection_upheld", date(2025, 9, 5)),
        ("repair_applied", date(2025, 9, 10)),
        ("repair_approved", date(2025, 9, 12)),
    ]
    for day in (date(2025, 6, 17), date(2025, 6, 18), date(2025, 8, 31)):
        assert penalty(NOTICE, day) == penalty([*NOTICE, *later], day)
    assert penalty(NOTICE, date(2025, 9, 2)) != penalty([*NOTICE, *later], date(2025, 9, 2))
