"""The sample content loads cleanly and shows every distinction of RULES.md on 2026-11-21."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select

from tests.builders import load
from volcredit import announcements, spotcheck
from volcredit.checks import check_store
from volcredit.cli_demo import DEMO_ANNOUNCEMENTS, DEMO_DRAW
from volcredit.overview import cases
from volcredit.problems import Severity
from volcredit.rules.periods import age_on
from volcredit.settings import PublicityPeriods
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)


def test_sample_content_covers_every_case_state_and_rule(store: Store) -> None:
    """BJ-16/17/18 and PUB-4 states, HN-2a late records, HN-2b kinds, BJ-3 minor, HN-1 kinds."""
    result = load(store, CONTENT, TODAY)
    assert result.ok, result.log.lines()
    assert {p.rule for p in result.log.kept} == {"HN-2a"}
    with store.read() as conn:
        views = list(cases(conn, TODAY, PublicityPeriods()))
        states = Counter(v.status.state.value for v in views if v.status)
        assert not [v for v in views if v.error]
        assert set(states) == {
            "awaiting_notice",
            "notified",
            "announced",
            "statement_under_review",
            "listed",
            "objection",
            "repair_applied",
            "not_listed",
            "repaired",
            "expired",
        }
        assert sum(v.status.overdue for v in views if v.status) == 1
        public = {v.penalty["case_id"] for v in views if v.decision.public}
        assert len(public) == states["listed"] + states["objection"] + states["repair_applied"]
        problems = list(check_store(conn, TODAY, PublicityPeriods()))
        errors = {(p.rule, p.severity) for p in problems if p.severity is Severity.ERROR}
        assert errors == {("HN-1d", Severity.ERROR)}  # the 2026 announcements are not out yet
    with store.write() as conn:  # what the demo records, as the web team did on those dates
        for year, day in DEMO_ANNOUNCEMENTS:
            announcements.publish(conn, year, day, "demo", "cli", datetime(2026, 11, 21))
        year, seed, day = DEMO_DRAW
        spotcheck.record_draw(conn, year, seed, day, "demo", "cli", datetime(2026, 11, 21))
    with store.read() as conn:
        problems = list(check_store(conn, TODAY, PublicityPeriods()))
        assert not [p for p in problems if p.severity is Severity.ERROR]
        assert {p.rule for p in problems} == {"HN-2a", "HN-1a", "HN-1d", "BJ-16c"}
        shortfalls = [p for p in problems if p.rule == "HN-1d"]
        assert shortfalls and all("低于 20 家的目标" in p.message for p in shortfalls)
        r = content_tables["service_records"]
        kinds = set(conn.execute(select(r.c.excluded_kind).distinct()).scalars())
        assert kinds == {None, 1, 2, 3, 4}  # every HN-2b kind
        late = conn.execute(select(func.count()).where(r.c.late_entry.is_(True))).scalar()
        assert late == 3
        v = content_tables["volunteers"]
        births = conn.execute(select(v.c.birth_date)).scalars().all()
        assert sum(age_on(b, TODAY) < 18 for b in births) == 1  # one minor (BJ-3)
        o = content_tables["organisations"]
        orgs = conn.execute(
            select(o.c.identified_on, o.c.identification_basis, o.c.identification_removed_on)
        ).all()
        assert {b for _, b, _ in orgs} == {"name_keyword", "charter_verified", None}
        assert any(removed for *_, removed in orgs) and any(i is None for i, *_ in orgs)
