"""Consents and the access log in the store, on SQLite and PostgreSQL (BJ-14c, BJ-15)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.builders import ORG_A, SECOND_ID, base_tables, load, write_content
from volcredit import access_log, consents, held
from volcredit.access_log import AccessEntry
from volcredit.store.engine import Store

TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 2, 0)


def _request(**over: object) -> consents.ConsentRequest:
    base = {
        "recipient_kind": "person",
        "recipient_name": "陈景行",
        "recipient_id": SECOND_ID.lower(),
        "purpose": "核实服务经历",
        "classes": ["service", "basic", "service"],
        "expires_on": "2026-12-21",
    }
    return consents.ConsentRequest(**{**base, **over})  # type: ignore[arg-type]


def test_validate_request_normalises_and_orders_bj_14c() -> None:
    subject = held.Subject("person", "V0001", "林若溪")
    valid, errors = consents.validate_request(_request(), subject, TODAY)
    assert errors == {} and valid is not None
    assert valid.recipient_id == SECOND_ID.upper()
    assert [c.value for c in valid.classes] == ["basic", "service"]


def test_organisation_has_no_service_class_bj_14c() -> None:
    subject = held.Subject("organisation", ORG_A, "东城区阳光志愿者协会")
    _valid, errors = consents.validate_request(_request(classes=["service"]), subject, TODAY)
    assert "classes" in errors
    _valid, errors = consents.validate_request(
        _request(recipient_kind="organisation", recipient_id="91110000000000000X"), subject, TODAY
    )
    assert "统一社会信用代码无效" in errors["recipient_id"]


def test_codes_are_unambiguous_and_typed_forgivingly() -> None:
    code = consents.new_code()
    assert len(code) == 14 and not set(code) & set("ILOU")
    assert consents.normalise_code(code.lower().replace("-", " ")) == code
    assert consents.normalise_code("o1l2-3456-789a") == "0112-3456-789A"


def test_issue_revoke_and_list_bj_14c(store: Store, tmp_path: Path) -> None:
    assert load(store, write_content(tmp_path, base_tables())).ok
    subject = held.Subject("person", "V0001", "林若溪")
    valid, _ = consents.validate_request(_request(), subject, TODAY)
    assert valid is not None
    with store.write() as conn:
        row = consents.issue(conn, subject, valid, today=TODAY, now=NOW)
    with store.write() as conn:
        assert consents.by_code(conn, row["code"].lower())["consent_id"] == row["consent_id"]
        assert [r["consent_id"] for r in consents.granted_to(conn, "person", SECOND_ID)] == [
            row["consent_id"]
        ]
        other = held.Subject("person", "V0002", "陈景行")
        assert not consents.revoke(conn, row["consent_id"], other, NOW)  # not theirs
        assert consents.revoke(conn, row["consent_id"], subject, NOW)
        assert not consents.revoke(conn, row["consent_id"], subject, NOW)  # already revoked
        assert consents.facts(consents.get(conn, row["consent_id"])).revoked_at == NOW


def test_access_log_is_append_only_bj_15(store: Store) -> None:
    """BJ-15: an access, once logged, cannot be edited or deleted, even in SQL."""
    entry = AccessEntry(
        "acct", "张三（工作人员）", "person", "V0001", "duty", "P1 复核", "全部信息"
    )
    with store.write() as conn:
        access_log.record(conn, entry, NOW)
        access_log.record(conn, entry, NOW + timedelta(minutes=1))
    with store.read() as conn:
        rows = access_log.about(conn, "person", "V0001")
        assert [r["at"] for r in rows] == [NOW + timedelta(minutes=1), NOW]
        assert access_log.staff_summary(conn)[0]["queries"] == 2
        assert len(access_log.by_actor(conn, "acct", limit=1)) == 1
    for statement in ("UPDATE access_log SET reference = 'x'", "DELETE FROM access_log"):
        with pytest.raises(DBAPIError), store.write() as conn:
            conn.execute(text(statement))
    with store.read() as conn:
        assert len(access_log.about(conn, "person", "V0001")) == 2


def test_consent_classes_cover_the_four_credit_classes_bj_2() -> None:
    """BJ-2: basic, good, bad and other information can each be consented to, for persons and
    organisations alike; record parts (CQ-6) only exist for persons."""
    credit = {held.InfoClass.BASIC, held.InfoClass.HONOURS, held.InfoClass.CASES}
    credit.add(held.InfoClass.OTHER)
    for kind in ("person", "organisation"):
        assert credit <= set(held.classes_for(kind))
    assert held.InfoClass.SERVICE not in held.classes_for("organisation")
    assert held.classes_for("nobody") == ()
