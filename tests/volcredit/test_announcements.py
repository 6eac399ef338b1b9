"""The yearly announcement of identified organisations and the coverage figure (HN-1d), as
pure rules and on a real store (SQLite and PostgreSQL), and through ``volcredit check``."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.builders import base_tables, load, uscc_code, write_content
from volcredit import announcements, identification
from volcredit import publication as pub
from volcredit.cli import main
from volcredit.rules import identification as ident_rule
from volcredit.rules.announcement import announcement_problem, coverage, due_date
from volcredit.store.engine import Store

NOW = datetime(2026, 11, 21, 9, 0)
TODAY = date(2026, 11, 21)


def test_hn1d_deadline_silent_before_june_warns_in_june_errors_from_july() -> None:
    """HN-1d: nothing on 31 May; a warning on 1 June and on 30 June; an error on 1 July."""
    assert due_date(2026) == date(2026, 6, 30)
    assert announcement_problem(2026, date(2026, 5, 31), None) is None
    june_first = announcement_problem(2026, date(2026, 6, 1), None)
    assert june_first is not None and not june_first.error and "29 天" in june_first.message
    last_day = announcement_problem(2026, date(2026, 6, 30), None)
    assert last_day is not None and not last_day.error and "0 天" in last_day.message
    july = announcement_problem(2026, date(2026, 7, 1), None)
    assert july is not None and july.error and "逾期" in july.message


def test_hn1d_published_on_time_is_fine_and_late_is_a_warning() -> None:
    """HN-1d: out by 30 June, no problem; out on 5 July, a warning that it was late."""
    assert announcement_problem(2026, date(2026, 7, 1), date(2026, 6, 30)) is None
    assert announcement_problem(2026, date(2026, 6, 10), date(2026, 6, 2)) is None
    late = announcement_problem(2026, date(2026, 7, 10), date(2026, 7, 5))
    assert late is not None and not late.error and "2026-07-05" in late.message
    # published with a date after "today": not out yet on "today"
    future = announcement_problem(2026, date(2026, 7, 1), date(2026, 7, 2))
    assert future is not None and future.error


def test_hn1d_coverage_arithmetic() -> None:
    """HN-1d: per million residents, two decimals half up; needed = ceil(20 × population / 10^6)."""
    changsha = coverage(3, 10_513_000)
    assert changsha.per_million == Decimal("0.29")
    assert changsha.needed == 211 and changsha.shortfall == 208 and changsha.met is False
    exact = coverage(20, 1_000_000)
    assert exact.per_million == Decimal("20.00") and exact.shortfall == 0 and exact.met
    assert coverage(19, 1_000_000).shortfall == 1
    assert coverage(1, 400_000).per_million == Decimal("2.50")  # half up
    assert coverage(1, 3).per_million == Decimal("333333.33")
    assert coverage(1, 3).needed == 1  # a tiny population still needs one
    assert coverage(40, 1_000_000).shortfall == 0  # over the target: no negative shortfall
    unknown = coverage(5, None)
    assert unknown.per_million is None and unknown.shortfall is None and unknown.met is None
    assert coverage(5, 0).per_million is None


def _loaded(store: Store, tmp_path: Path) -> None:
    tables = base_tables()
    orgs = tables["organisations"]
    for i in range(3, 6):  # three more identified in 芙蓉区, one identified later in the year
        orgs.append(
            {
                **orgs[0],
                "uscc": uscc_code("430102", i),
                "name": f"芙蓉区第{i}志愿服务队",
                "region": "430102",
                "identified_on": date(2026, 3, 1) if i < 5 else date(2026, 8, 1),
            }
        )
    assert load(store, write_content(tmp_path / "c", tables)).ok


def test_hn1d_publish_records_each_region_once(store: Store, tmp_path: Path) -> None:
    """HN-1d: every region of every level gets one announcement per year; publishing again
    adds nothing; a future year or an unknown region is refused."""
    _loaded(store, tmp_path)
    with store.write() as conn:
        done = announcements.publish(conn, 2026, date(2026, 6, 20), "t", "cli", NOW)
    by_code = {p.region.code: p for p in done}
    assert set(by_code) == {"110000", "110101", "430000", "430100", "430102", "500000", "500103"}
    assert by_code["430102"].organisations == 2  # the one identified in August is not yet in
    assert by_code["110101"].organisations == 1 and by_code["110000"].organisations == 0
    assert not any(p.late for p in done)
    with store.write() as conn:
        assert announcements.publish(conn, 2026, date(2026, 6, 25), "t", "cli", NOW) == []
        with pytest.raises(announcements.AnnouncementRefused):
            announcements.publish(conn, 2027, date(2026, 6, 25), "t", "cli", NOW)
        with pytest.raises(announcements.AnnouncementRefused, match="999999"):
            announcements.publish(conn, 2026, date(2026, 6, 25), "t", "cli", NOW, ["999999"])
    with store.read() as conn:
        out = announcements.published(conn, date(2026, 11, 21))
    assert out[(2026, "430102")] == date(2026, 6, 20)
    assert (2025, "430102") not in out


def test_hn1d_announcement_is_what_stood_on_its_day(store: Store, tmp_path: Path) -> None:
    """HN-1d, PUB-2, HN-1c: the 2026 list is the region's own identified organisations on the
    publication day; a removal afterwards shows on the 2027 announcement, not on 2026's."""
    _loaded(store, tmp_path)
    first, second = uscc_code("430102", 3), uscc_code("430102", 4)
    with store.write() as conn:
        announcements.publish(conn, 2026, date(2026, 6, 20), "t", "cli", NOW)
        identification.record(
            conn,
            first,
            ident_rule.REMOVED,
            date(2026, 9, 1),
            "t",
            "cli",
            NOW,
            charter_volunteer_purpose=False,
            note="章程核准〔2026〕9号",
        )
        announcements.publish(conn, 2027, date(2027, 6, 1), "t", "cli", NOW)
    with store.read() as conn:
        out = announcements.published(conn, date(2027, 12, 31))
        region = pub.regions(conn)["430102"]
        a2026 = announcements.announcement(conn, region, 2026, out)
        a2027 = announcements.announcement(conn, region, 2027, out)
        assert announcements.announcement(conn, region, 2025, out) is None
    assert a2026 is not None and a2027 is not None
    assert [o.uscc for o in a2026.organisations] == [first, second]
    assert a2026.new == {first, second} and a2026.removed == []
    assert [o.uscc for o in a2027.organisations] == [second, uscc_code("430102", 5)]
    assert a2027.new == {uscc_code("430102", 5)}
    assert [(o.uscc, o.removed_on) for o in a2027.removed] == [(first, date(2026, 9, 1))]
    assert a2026.digest == announcements.digest([second, first]) != a2027.digest


def test_hn1d_coverage_rolls_up_to_the_parent_regions(store: Store, tmp_path: Path) -> None:
    """HN-1d: a region's figure counts its own and every region under it, per its population."""
    _loaded(store, tmp_path)
    with store.read() as conn:
        rows = {
            r.region.code: r for r in announcements.coverage_by_region(conn, date(2026, 11, 21))
        }
    assert rows["430102"].own == 3 and rows["430102"].coverage.identified == 3
    assert rows["430100"].own == 0 and rows["430100"].coverage.identified == 3
    assert rows["430000"].coverage.identified == 3
    assert rows["110000"].coverage.identified == 1  # ORG_A in 东城区
    assert rows["430102"].coverage == coverage(3, 540_000)
    assert rows["500000"].coverage.identified == 0


def test_hn1d_check_warns_in_june_and_errors_after_june(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-1d through ``volcredit check``: 31 May silent, 1 June warning, 1 July error (exit 1);
    after ``volcredit announce`` on 5 July, only a late-publication warning remains."""
    _loaded(store, tmp_path)

    def check(day: str) -> tuple[int, list[str]]:
        code = main(["check", "--db", store.url, "--today", day])
        out = capsys.readouterr().out
        return code, [line for line in out.splitlines() if "announcement" in line]

    code, lines = check("2026-05-31")
    assert lines == []
    code, lines = check("2026-06-01")
    assert len(lines) == 7 and all("警告" in line and "[HN-1d]" in line for line in lines)
    code, lines = check("2026-07-01")
    assert code == 1 and len(lines) == 7 and not any("警告" in line for line in lines)
    assert main(["announce", "--db", store.url, "--year", "2026", "--today", "2026-07-05"]) == 0
    assert "逾期" in capsys.readouterr().out
    code, lines = check("2026-07-06")
    assert code == 0 and len(lines) == 7 and all("晚于 6 月 30 日" in line for line in lines)


def test_hn1d_coverage_command_and_shortfall_warning(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-1d: ``volcredit coverage`` prints each region's figure; ``check`` warns when short."""
    _loaded(store, tmp_path)
    assert main(["coverage", "--db", store.url, "--today", "2026-11-21", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    rows = {r["code"]: r for r in payload["regions"]}
    assert payload["target"] == 20
    assert rows["430102"] == {
        "code": "430102",
        "name": "芙蓉区",
        "level": "county",
        "population": 540000,
        "own": 3,
        "identified": 3,
        "per_million": "5.56",
        "needed": 11,
        "shortfall": 8,
    }
    main(["check", "--db", store.url, "--today", "2026-11-21"])
    out = capsys.readouterr().out
    assert "regions（芙蓉区 430102）: population: 警告 每百万人口认定 5.56 家" in out


def test_hn1d_a_published_list_never_changes_afterwards(store: Store, tmp_path: Path) -> None:
    """HN-1d, PUB-8: an announcement shows what was published — a decision later the same day,
    a reload that rewrites past facts, or a late announcement of an earlier year change nothing."""
    _loaded(store, tmp_path)
    chunni = uscc_code("430102", 5)  # identified only in August
    with store.write() as conn:
        announcements.publish(conn, 2026, date(2026, 6, 20), "t", "cli", NOW)
        identification.record(
            conn,
            uscc_code("430102", 3),
            ident_rule.REMOVED,
            date(2026, 6, 20),
            "t",
            "cli",
            NOW,
            charter_volunteer_purpose=False,
            note="章程核准",
        )
    with store.read() as conn:
        region = pub.regions(conn)["430102"]
        before = announcements.announcement(
            conn, region, 2026, announcements.published(conn, TODAY)
        )
    tables = base_tables()
    tables["organisations"].append(
        {
            **tables["organisations"][0],
            "uscc": uscc_code("430102", 4),
            "name": "芙蓉区第4志愿服务队",
            "region": "430102",
            "identified_on": date(2026, 6, 25),  # was 1 March when the list was published
        }
    )
    assert load(store, write_content(tmp_path / "c2", tables)).ok
    with store.write() as conn:  # the 2025 announcement, published late, after 2026's
        announcements.publish(conn, 2025, date(2026, 11, 1), "t", "cli", NOW)
    with store.read() as conn:
        after = announcements.announcement(conn, region, 2026, announcements.published(conn, TODAY))
    assert before is not None and after == before
    assert [o.uscc for o in before.organisations] == [
        uscc_code("430102", 3),
        uscc_code("430102", 4),
    ]
    assert chunni not in before.new and before.digest == announcements.digest(
        [uscc_code("430102", 3), uscc_code("430102", 4)]
    )
