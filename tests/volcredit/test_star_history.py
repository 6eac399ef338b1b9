"""Star history (CQ-19) and the time-bank balance (CQ-20), as rules and from a real store."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from tests.builders import load
from volcredit import certificates, held, signing
from volcredit.rules.stars import StarReached, star_history, star_standing, time_bank_balance
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_cq19_star_history_records_the_day_each_level_was_reached() -> None:
    """CQ-19: the first day the running total met 100, 300, 600… hours, each level once, even
    when one long record crosses two thresholds."""
    records = [
        (date(2025, 1, 5), Decimal("60")),
        (date(2025, 2, 9), Decimal("40")),  # exactly 100: one star
        (date(2025, 3, 1), Decimal("550")),  # 650: two and three stars the same day
        (date(2025, 4, 1), Decimal("10")),
    ]
    assert star_history(records) == [
        StarReached(1, date(2025, 2, 9), Decimal("100")),
        StarReached(2, date(2025, 3, 1), Decimal("650")),
        StarReached(3, date(2025, 3, 1), Decimal("650")),
    ]
    assert star_history([]) == []
    assert star_history([(date(2025, 1, 1), Decimal("99.99"))]) == []


def test_cq20_time_bank_keeps_the_qualifying_hours() -> None:
    """CQ-20: the balance is the qualifying hours stored; only an exchange would lower it."""
    assert time_bank_balance(Decimal("310.50")) == Decimal("310.50")
    assert time_bank_balance(Decimal("310.50"), Decimal("10")) == Decimal("300.50")


def test_cq19_hn2b_star_history_from_the_store(store: Store, tmp_path: Path) -> None:
    """CQ-19, HN-2b: the store's star history uses qualifying records only, and its last level
    is the current star level; CQ-20: issuing a certificate leaves the balance unchanged."""
    assert load(store, CONTENT, date(2026, 11, 21)).ok
    r = content_tables["service_records"]
    with store.read() as conn:
        best = conn.execute(
            select(r.c.volunteer_no)
            .where(r.c.excluded_kind.is_(None))
            .group_by(r.c.volunteer_no)
            .order_by(func.sum(r.c.hours).desc())
            .limit(1)
        ).scalar_one()
        rows = conn.execute(
            select(r.c.date, r.c.hours, r.c.excluded_kind)
            .where(r.c.volunteer_no == best)
            .order_by(r.c.date, r.c.record_id)
        ).all()
        history = held.star_history(conn, best, date(2026, 11, 21))
        summary = held.hours_summary(conn, best, date(2026, 11, 21))
        early = held.hours_summary(conn, best, date(2025, 1, 1))
    qualifying = [(d, h) for d, h, kind in rows if kind is None]
    assert history == star_history(qualifying)
    assert history and history[-1].level == summary.stars.level
    assert early.stars.qualifying_hours < summary.stars.qualifying_hours  # counted by the date
    assert summary.stars == star_standing(sum((h for _, h in qualifying), Decimal(0)))
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    with store.write() as conn:
        certificates.issue(
            conn,
            certificates.CertificateRequest(best),
            date(2026, 11, 21),
            "t",
            datetime(2026, 11, 21),
            key,
            "示例",
        )
    with store.read() as conn:
        after = held.hours_summary(conn, best, date(2026, 11, 21))
    assert time_bank_balance(after.stars.qualifying_hours) == summary.stars.qualifying_hours
