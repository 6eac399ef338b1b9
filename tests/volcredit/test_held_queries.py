"""The self-query page's merged reads (BJ-14b, CQ-6–13, CQ-19, HN-2b) give exactly what the
separate reads give, on the sample content in a real store, on dates that cut through it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from tests.builders import load
from volcredit import held
from volcredit.overview import cases
from volcredit.settings import PublicityPeriods
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
FIXED_DAYS = (date(2020, 1, 1), date(2025, 3, 1), date(2026, 6, 30), date(2026, 11, 21))


def _cut_days(store: Store) -> list[date]:
    """Fixed days plus every record's date and entry date, and the day before each: the days on
    which a record starts or stops counting (CQ-19, HN-2a)."""
    r = content_tables["service_records"]
    days = set(FIXED_DAYS)
    with store.read() as conn:
        for day, recorded_on in conn.execute(select(r.c.date, r.c.recorded_on)):
            days |= {day, recorded_on, date.fromordinal(recorded_on.toordinal() - 1)}
    return sorted(days)


def test_cq19_hn2b_service_standing_equals_summary_and_star_history(store: Store) -> None:
    """CQ-19, HN-2b, CQ-9: one pass over the records gives the totals and the star history
    that the two separate queries give, for every volunteer (and an unknown one) on every day
    where a record is dated or entered, with excluded and late-entered records among them."""
    assert load(store, CONTENT, date(2026, 11, 21)).ok
    v = content_tables["volunteers"]
    with store.read() as conn:
        numbers = [*conn.execute(select(v.c.volunteer_no)).scalars(), "NO-SUCH-VOLUNTEER"]
    days = _cut_days(store)
    seen_stars = seen_excluded = False
    with store.read() as conn:
        for number in numbers:
            for day in days:
                summary, history = held.service_standing(conn, number, day)
                assert summary == held.hours_summary(conn, number, day), (number, day)
                assert history == held.star_history(conn, number, day), (number, day)
                seen_stars |= bool(history)
                seen_excluded |= summary.excluded_records > 0
    assert seen_stars and seen_excluded  # the sample content exercises both


def test_bj7_find_with_basic_equals_find_subject_and_basic_info(store: Store) -> None:
    """BJ-7, CQ-6/7, HN-1a–c: one lookup gives the subject and its basic info exactly as the
    two lookups do, for every person and organisation; an unknown subject or kind is None."""
    assert load(store, CONTENT, date(2026, 11, 21)).ok
    v, o = content_tables["volunteers"], content_tables["organisations"]
    with store.read() as conn:
        keys = [("person", k) for k in conn.execute(select(v.c.volunteer_no)).scalars()]
        keys += [("organisation", k) for k in conn.execute(select(o.c.uscc)).scalars()]
        for day in FIXED_DAYS:
            for kind, key in keys:
                found = held.find_with_basic(conn, kind, key, day)
                subject = held.find_subject(conn, kind, key)
                assert found is not None and subject is not None
                assert found == (subject, held.basic_info(conn, subject, day))
        assert held.find_with_basic(conn, "person", "NO-SUCH-VOLUNTEER", FIXED_DAYS[-1]) is None
        assert held.find_with_basic(conn, "robot", keys[0][1], FIXED_DAYS[-1]) is None


def test_bj16_credit_cases_equal_the_subjects_cases_among_all(store: Store) -> None:
    """BJ-16–18: a subject's cases (the calendar read only when there is one) are exactly that
    subject's entries among every case, state and deadline included; none for a subject
    without cases."""
    assert load(store, CONTENT, date(2026, 11, 21)).ok
    periods = PublicityPeriods()
    p = content_tables["penalties"]
    v = content_tables["volunteers"]
    with store.read() as conn:
        subjects = {(k, s) for k, s in conn.execute(select(p.c.subject_kind, p.c.subject))}
        subjects |= {("person", k) for k in conn.execute(select(v.c.volunteer_no)).scalars()}
        for day in FIXED_DAYS:
            every = list(cases(conn, day, periods))
            for kind, key in subjects:
                expected = [
                    c
                    for c in every
                    if (c.penalty["subject_kind"], c.penalty["subject"]) == (kind, key)
                ]
                mine = held.credit_cases(conn, held.Subject(kind, key, ""), day, periods)
                assert [c.as_json() for c in mine] == [c.as_json() for c in expected]
                assert mine == expected


def test_bj14b_classes_with_rows_names_exactly_the_non_empty_classes(store: Store) -> None:
    """BJ-14b, CQ-11–13, BJ-8–10: the page skips a class only when reading it would give
    nothing; every class with rows about the subject is named."""
    assert load(store, CONTENT, date(2026, 11, 21)).ok
    v, o = content_tables["volunteers"], content_tables["organisations"]
    today, periods = date(2026, 11, 21), PublicityPeriods()
    named: set[held.InfoClass] = set()
    with store.read() as conn:
        people = conn.execute(select(v.c.volunteer_no)).scalars()
        subjects = [held.Subject("person", k, "") for k in people]
        orgs = conn.execute(select(o.c.uscc)).scalars()
        subjects += [held.Subject("organisation", k, "") for k in orgs]
        for s in subjects:
            has = held.classes_with_rows(conn, s)
            reads = {
                held.InfoClass.HONOURS: held.honours(conn, s, today),
                held.InfoClass.COMPLAINTS: held.complaints(conn, s),
                held.InfoClass.CASES: held.credit_cases(conn, s, today, periods),
                held.InfoClass.OTHER: held.other_info(conn, s),
            }
            if s.kind == "person":
                reads[held.InfoClass.TRAINING] = held.trainings(conn, s.key)
            for cls, rows in reads.items():
                assert (cls in has) == bool(rows), (s, cls)
            named |= has
    assert named == held.PROBED_CLASSES  # the sample content has rows in every probed class
