"""Identification decisions in the store (HN-1a–c): appended to the history, checked against
the rules, followed by the public projection from their date, on SQLite and PostgreSQL, and
through ``volcredit identify``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.builders import ORG_A, ORG_B, base_tables, load, uscc_code, write_content
from volcredit import identification
from volcredit import publication as pub
from volcredit.cli import main
from volcredit.rules import identification as rule
from volcredit.store import history
from volcredit.store.engine import Store

NOW = datetime(2026, 11, 21, 9, 0)


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    tables = base_tables()
    # ORG_B (芙蓉区邻里互助中心): no keyword in its name, charter has the purpose, not identified.
    # A second unidentified organisation with a keyword name qualifies for direct identification.
    keyword = {**tables["organisations"][1], "name": "芙蓉区晨光志愿服务队"}
    keyword["uscc"] = _keyword_uscc()
    tables["organisations"].append(keyword)
    assert load(store, write_content(tmp_path / "c", tables)).ok
    return store


def _keyword_uscc() -> str:
    """A checksum-valid code for the keyword-named organisation added by the fixture."""
    return uscc_code("430102", 7)


def _record(store: Store, uscc: str, event: str, day: date, **kw: object) -> history.Entry:
    with store.write() as conn:
        return identification.record(conn, uscc, event, day, "staff:t", "portal", NOW, **kw)  # type: ignore[arg-type]


def _public(store: Store, today: date) -> dict[str, pub.PublicOrganisation]:
    with store.read() as conn:
        return {o.uscc: o for o in pub.organisations(conn, today)}


def _history_size(store: Store) -> int:
    with store.read() as conn:
        return sum(1 for _ in history.entries(conn))


def test_hn1a_direct_identification_is_an_event_the_site_follows(loaded: Store) -> None:
    """HN-1a: a keyword name with a volunteer-service charter is identified directly; from the
    decision's date the organisation is public (PUB-2), before it not."""
    uscc = _keyword_uscc()
    with loaded.read() as conn:
        queue = [o.uscc for o in identification.direct_candidates(conn, date(2026, 10, 9))]
    assert queue == [uscc]  # ORG_B has no keyword; ORG_A is identified
    entry = _record(loaded, uscc, rule.IDENTIFIED_DIRECT, date(2026, 10, 9))
    with loaded.read() as conn:
        assert identification.direct_candidates(conn, date(2026, 10, 9)) == []
    assert (entry.ref, entry.event, entry.source) == (uscc, "identified_direct", "portal")
    assert uscc not in _public(loaded, date(2026, 10, 8))
    org = _public(loaded, date(2026, 10, 9))[uscc]
    assert org.identified_on == date(2026, 10, 9) and org.identification_basis == "name_keyword"
    with loaded.read() as conn:
        assert history.verify(conn).ok


def test_hn1a_direct_identification_refused_without_keyword(loaded: Store) -> None:
    """HN-1a: a name without 志愿服务/志愿者/义工 is not identified directly; nothing recorded."""
    before = _history_size(loaded)
    with pytest.raises(identification.DecisionRefused) as refused:
        _record(loaded, ORG_B, rule.IDENTIFIED_DIRECT, date(2026, 10, 9))
    assert refused.value.rule == "HN-1a" and "HN-1b" in str(refused.value)
    assert _history_size(loaded) == before


def test_hn1b_request_then_identification_after_charter_check(loaded: Store) -> None:
    """HN-1b: the organisation asks; staff verify the charter and identify it on request; the
    request is closed; an identification without a pending request is refused."""
    with pytest.raises(identification.DecisionRefused, match="没有待办的认定申请"):
        _record(loaded, ORG_B, rule.IDENTIFIED_ON_REQUEST, date(2026, 9, 1))
    _record(loaded, ORG_B, rule.REQUESTED, date(2026, 9, 1), note="组织提出申请")
    with loaded.read() as conn:
        pending = list(identification.pending_requests(conn, date(2026, 9, 2)))
    assert [o.uscc for o in pending] == [ORG_B]
    with pytest.raises(identification.DecisionRefused, match="章程核准"):
        _record(
            loaded,
            ORG_B,
            rule.IDENTIFIED_ON_REQUEST,
            date(2026, 9, 8),
            charter_volunteer_purpose=False,
        )
    _record(
        loaded,
        ORG_B,
        rule.IDENTIFIED_ON_REQUEST,
        date(2026, 9, 8),
        charter_volunteer_purpose=True,
        note="章程核准〔2026〕3号",
    )
    org = _public(loaded, date(2026, 9, 8))[ORG_B]
    assert org.identification_basis == "charter_verified"
    with loaded.read() as conn:
        assert list(identification.pending_requests(conn, date(2026, 9, 8))) == []
        state = identification.organisation(conn, ORG_B, date(2026, 9, 8))
    assert state is not None and state.identification.requested_on is None


def test_hn1b_refusal_closes_the_request(loaded: Store) -> None:
    """HN-1b: a request whose charter has no volunteer-service purpose is refused."""
    _record(loaded, ORG_B, rule.REQUESTED, date(2026, 9, 1))
    _record(loaded, ORG_B, rule.REFUSED, date(2026, 9, 5), note="章程未载明志愿服务宗旨")
    assert ORG_B not in _public(loaded, date(2026, 9, 5))
    with loaded.read() as conn:
        assert list(identification.pending_requests(conn, date(2026, 9, 5))) == []


def test_hn1c_removal_needs_the_amended_charter_and_is_published(loaded: Store) -> None:
    """HN-1c: removal of an identified organisation once its amended charter dropped the
    purpose; the public projection shows the removal and its date (PUB-2)."""
    with pytest.raises(identification.DecisionRefused) as refused:
        _record(loaded, ORG_A, rule.REMOVED, date(2026, 10, 1), charter_volunteer_purpose=True)
    assert refused.value.rule == "HN-1c"
    _record(
        loaded,
        ORG_A,
        rule.REMOVED,
        date(2026, 10, 1),
        charter_volunteer_purpose=False,
        note="章程核准〔2026〕8号",
    )
    assert _public(loaded, date(2026, 9, 30))[ORG_A].removed_on is None
    assert _public(loaded, date(2026, 10, 1))[ORG_A].removed_on == date(2026, 10, 1)
    with pytest.raises(identification.DecisionRefused, match="当前未被认定"):
        _record(loaded, ORG_A, rule.REMOVED, date(2026, 11, 1), charter_volunteer_purpose=False)


def test_hn1_decisions_cannot_be_backdated_before_a_later_one(loaded: Store) -> None:
    """HN-1: history is in order; a decision dated before the organisation's latest is refused."""
    _record(loaded, ORG_B, rule.REQUESTED, date(2026, 9, 10))
    with pytest.raises(identification.DecisionRefused, match="2026-09-10"):
        _record(loaded, ORG_B, rule.REFUSED, date(2026, 9, 1))
    with pytest.raises(identification.DecisionRefused, match="没有统一社会信用代码"):
        _record(loaded, "91110000000000000X", rule.REQUESTED, date(2026, 9, 10))


def test_hn1_identify_command(loaded: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """HN-1a–c through ``volcredit identify``: recorded with source cli; a refused decision
    names the organisation and the rule and exits 1; a removal without --note is a usage error."""
    db = ["--db", loaded.url, "--today", "2026-10-09"]
    assert main(["identify", _keyword_uscc(), "--decision", "direct", *db]) == 0
    assert "identified_direct" in capsys.readouterr().out
    assert main(["identify", ORG_B, "--decision", "direct", *db]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"organisations {ORG_B}:") and "[HN-1a]" in err
    assert main(["identify", ORG_A, "--decision", "remove", "--charter", "no", *db]) == 2
    assert "--note" in capsys.readouterr().err
    with loaded.read() as conn:
        sources = [e.source for e in history.entries(conn, _keyword_uscc())]
    assert sources == ["cli"]
    main(["check", "--db", loaded.url, "--today", "2026-10-09"])
    out = capsys.readouterr().out
    assert "芙蓉区晨光志愿服务队" not in out  # identified now: no longer an HN-1a candidate


def test_hn1c_a_removal_stands_until_a_new_charter_is_confirmed(loaded: Store) -> None:
    """HN-1c: after a removal for an amended charter, the organisation is no longer offered for
    direct identification, ``check`` does not call it qualifying, and identifying it again needs
    an officer to confirm a charter with the volunteer-service purpose (HN-1a)."""
    _record(
        loaded,
        ORG_A,
        rule.REMOVED,
        date(2026, 10, 1),
        charter_volunteer_purpose=False,
        note="章程核准〔2026〕8号",
    )
    with loaded.read() as conn:
        assert ORG_A not in {
            o.uscc for o in identification.direct_candidates(conn, date(2026, 10, 1))
        }
    with pytest.raises(identification.DecisionRefused, match="章程"):
        _record(loaded, ORG_A, rule.IDENTIFIED_DIRECT, date(2026, 10, 2))
    _record(
        loaded, ORG_A, rule.IDENTIFIED_DIRECT, date(2026, 10, 3), charter_volunteer_purpose=True
    )
    assert _public(loaded, date(2026, 10, 3))[ORG_A].removed_on is None
