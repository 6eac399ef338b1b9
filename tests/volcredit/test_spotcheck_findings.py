"""The recorded spot-check draw (HN-2c) and the HN-2d checklist: pre-filled from the data,
completed by findings (imported or recorded), reported per city, on the real sample content in
SQLite and PostgreSQL, and through ``volcredit spotcheck --record`` and ``spotcheck-report``."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

from tests.builders import load
from volcredit import spotcheck
from volcredit import spotcheck_findings as sf
from volcredit.cli import main
from volcredit.rules.checklist import (
    ITEMS,
    Finding,
    OrganisationFacts,
    checklist,
    finding_problem,
    prefill,
)
from volcredit.store.engine import Store

SAMPLE = Path(__file__).resolve().parents[2] / "content"
NOW = datetime(2026, 11, 21, 9, 0)
SEED = "湖南-2026-公开种子"
WARM_SUN = "51430102MJD274186X"  # 暖阳义工协会: one late record in 2026 (sample comments)
KANGNING = "52430302MJD58204XK"  # 康宁养老: its complaint came on 2026-10-30
STAR_BRIDGE = "52430104MJD4052625"  # 星桥研学: not identified, a 2026 complaint


def facts(**kw: object) -> OrganisationFacts:
    base: dict[str, object] = {
        "records": 10,
        "incomplete": 0,
        "late": 0,
        "unknown_timeliness": 0,
        "excluded": {},
        "complaints": 0,
    }
    base.update(kw)
    return OrganisationFacts(**base)  # type: ignore[arg-type]


def suggestions(f: OrganisationFacts) -> dict[int, str | None]:
    return {p.item: p.suggestion for p in prefill(f)}


def test_hn2d_prefill_from_the_records() -> None:
    """HN-2d: items 1, 2 and 5 are suggested from the data; 3, 4, 6, 7, 8 are for the checker."""
    clean = suggestions(facts())
    assert clean == {1: "pass", 2: "pass", 3: None, 4: None, 5: "pass", 6: None, 7: None, 8: None}
    assert set(clean) == set(ITEMS)
    flawed = prefill(facts(incomplete=2, late=1, excluded={4: 3, 2: 1}))
    by_item = {p.item: p for p in flawed}
    assert by_item[1].suggestion == "fail" and "2 条要素不全" in by_item[1].evidence
    assert by_item[2].suggestion == "fail" and "1 条" in by_item[2].evidence
    assert by_item[5].suggestion == "fail" and "第2类 1 条、第4类 3 条" in by_item[5].evidence
    unknown = suggestions(facts(unknown_timeliness=4))
    assert unknown[2] is None  # PERIOD: no calendar, no guess
    empty = suggestions(facts(records=0))
    assert empty[1] is None and empty[2] is None and empty[5] is None


def test_hn2d_the_latest_finding_stands_and_prefill_is_only_a_suggestion() -> None:
    """HN-2d: without a finding an item is open even when the pre-fill suggests pass."""
    items = checklist(
        facts(late=1),
        [
            Finding(2, "fail", "导入", "import", None),
            Finding(2, "pass", "已整改复核", "portal", date(2026, 9, 1)),
        ],
    )
    by_item = {i.item: i for i in items}
    assert by_item[2].outcome == "pass" and by_item[2].finding.note == "已整改复核"  # type: ignore[union-attr]
    assert by_item[1].prefill.suggestion == "pass" and by_item[1].outcome == "open"
    assert finding_problem(9, "pass") == ("item", "检查项目必须是 1–8（HN-2d）")
    assert finding_problem(1, "maybe") is not None and finding_problem(1, "maybe")[0] == "result"  # type: ignore[index]
    assert finding_problem(8, "fail", " ") is not None  # a fail says what was found
    assert finding_problem(8, "fail", "收取证明费 20 元") is None
    assert finding_problem(8, "pass") is None


def _finding(conn: Connection, uscc: str, item: int) -> None:
    sf.record_finding(conn, 2026, uscc, item, "pass", None, date(2026, 9, 1), "t", "portal", NOW)


@pytest.fixture
def sample(store: Store) -> Store:
    assert load(store, SAMPLE).ok
    return store


def test_hn2c_recorded_draw_is_the_draw_and_keeps_one_seed(sample: Store) -> None:
    """HN-2c: the recorded draw equals the reproducible draw for its seed; recording again
    with the same seed adds nothing; another seed or a future year is refused."""
    with sample.write() as conn:
        recorded = spotcheck.record_draw(conn, 2026, SEED, date(2026, 7, 15), "t", "cli", NOW)
    with sample.read() as conn:
        fresh = list(spotcheck.region_draws(conn, 2026, SEED, date(2026, 7, 15)))
        year_end = {d.code: d for d in spotcheck.region_draws(conn, 2026, SEED)}
    assert [(d.region, d.drawn) for d in recorded] == [
        (d.code, [(x.candidate.uscc, x.reason) for x in d.drawn]) for d in fresh
    ]
    # A complaint received after the draw (30 October) does not change the recorded draw.
    late = {u: r for d in recorded for u, r in d.drawn}
    assert late.get(KANGNING) != "complaint"
    assert (year_end["430302"].drawn[0].candidate.uscc, year_end["430302"].drawn[0].reason) == (
        KANGNING,
        "complaint",
    )
    assert all(d.seed == SEED and d.drawn_on == date(2026, 7, 15) for d in recorded)
    with sample.write() as conn:
        again = spotcheck.record_draw(conn, 2026, SEED, date(2026, 7, 20), "t", "cli", NOW)
        assert again == recorded
        with pytest.raises(spotcheck.DrawRefused, match=SEED):
            spotcheck.record_draw(conn, 2026, "another", date(2026, 7, 20), "t", "cli", NOW)
        with pytest.raises(spotcheck.DrawRefused):
            spotcheck.record_draw(conn, 2027, SEED, date(2026, 7, 20), "t", "cli", NOW)


def test_hn2c_complaint_organisations_are_drawn_even_if_not_identified(sample: Store) -> None:
    """HN-2c: "other organisations" are checked too: an unidentified organisation that
    recorded service and drew a complaint that year is in its county's draw, first."""
    with sample.read() as conn:
        draws = {d.code: d for d in spotcheck.region_draws(conn, 2026, SEED)}
    yuelu = draws["430104"]
    assert yuelu.drawn[0].candidate.uscc == STAR_BRIDGE and yuelu.drawn[0].reason == "complaint"


def test_hn2d_reports_per_city_with_prefill_and_findings(sample: Store) -> None:
    """HN-2c, HN-2d: reports go per city (a municipality's districts with it); each drawn
    organisation has eight items, pre-filled from its records, imported findings standing,
    a recorded finding overriding them; findings only for drawn organisations."""
    with sample.write() as conn:
        spotcheck.record_draw(conn, 2026, SEED, date(2026, 7, 15), "t", "cli", NOW)
    with sample.read() as conn:
        reports = {r.unit.code: r for r in sf.reports(conn, 2026)}
    assert set(reports) == {"110000", "430100", "430300", "500000"}
    beijing = reports["110000"]
    assert {s.region.code for s in beijing.regions} == {"110101", "110105", "110108"}
    assert beijing.due == date(2026, 10, 31) and beijing.seed == SEED
    changsha = {o.uscc: o for s in reports["430100"].regions for o in s.organisations}
    warm = {i.item: i for i in changsha[WARM_SUN].items}
    assert len(warm) == 8
    assert warm[2].prefill.suggestion == "fail"  # its late 2026 record (HN-2a)
    assert warm[2].finding is not None and warm[2].finding.source == "import"
    assert warm[2].outcome == "fail" and warm[1].outcome == "pass" and warm[3].outcome == "open"
    star = {i.item: i for i in changsha[STAR_BRIDGE].items}
    assert star[5].prefill.suggestion is None  # its kind-4 records date from 2025, not 2026
    assert star[5].outcome == "fail" and "第4类" in (star[5].finding.note or "")  # type: ignore[union-attr]
    with sample.write() as conn:
        sf.record_finding(
            conn, 2026, WARM_SUN, 2, "pass", "已补录并整改", date(2026, 9, 1), "t", "portal", NOW
        )
        with pytest.raises(sf.FindingRefused) as refused:
            _finding(conn, "91110000000000000X", 1)
        assert refused.value.field == "organisation"
        with pytest.raises(sf.FindingRefused) as refused:
            _finding(conn, WARM_SUN, 9)
        assert refused.value.field == "item"
        sf.record_finding(
            conn, 2026, WARM_SUN, 6, "fail", '=HYPERLINK("x")', date(2026, 9, 1), "t", "cli", NOW
        )
    with sample.read() as conn:
        report = next(r for r in sf.reports(conn, 2026) if r.unit.code == "430100")
    rows = list(sf.csv_rows(report))
    assert rows[0] == sf.CSV_HEADER
    formula = [r for r in rows if r[3] == WARM_SUN and r[6] == "6"]
    assert formula[0][11] == '\'=HYPERLINK("x")'  # never run by a spreadsheet
    drawn = sum(len(s.organisations) for s in report.regions)
    assert len(rows) == 1 + 8 * drawn
    mine = [r for r in rows if r[3] == WARM_SUN and r[6] == "2"]
    assert mine == [
        (
            "长沙市",
            "430102",
            "芙蓉区",
            WARM_SUN,
            "长沙市芙蓉区暖阳义工协会",
            mine[0][5],
            "2",
            ITEMS[2],
            "不通过",
            mine[0][9],
            "通过",
            "已补录并整改",
            "portal",
        )
    ]


def test_hn2c_check_warns_without_a_draw_from_september(
    sample: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-2c: checks happen before September: from 1 September ``check`` warns until a draw is
    recorded; ``spotcheck --record`` records it and the warning goes."""

    def draw_lines(day: str) -> list[str]:
        main(["check", "--db", sample.url, "--today", day])
        return [x for x in capsys.readouterr().out.splitlines() if "[HN-2c]" in x]

    assert draw_lines("2026-08-31") == []
    assert len(draw_lines("2026-09-01")) == 1
    argv = ["spotcheck", "--db", sample.url, "--year", "2026", "--seed", SEED, "--record"]
    assert main([*argv, "--today", "2026-09-02"]) == 0
    assert "已记录抽查名单" in capsys.readouterr().out
    assert draw_lines("2026-09-03") == []
    assert main([*argv[:-2], "另一个种子", "--record", "--today", "2026-09-04"]) == 1
    assert "[HN-2c]" in capsys.readouterr().err


def test_hn2c_spotcheck_report_command_writes_html_and_csv(
    sample: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-2c: ``spotcheck-report`` writes each city's report as HTML and CSV (never into the
    site directory: findings are never public, PUB-1); without a draw it says what to run."""
    out = tmp_path / "reports"
    assert main(["spotcheck-report", "--db", sample.url, "--year", "2026", "--out", str(out)]) == 1
    assert "spotcheck --record" in capsys.readouterr().err
    argv = ["spotcheck", "--db", sample.url, "--year", "2026", "--seed", SEED, "--record"]
    assert main([*argv, "--today", "2026-07-15"]) == 0
    capsys.readouterr()
    assert main(["spotcheck-report", "--db", sample.url, "--year", "2026", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert "spotcheck-2026-430100.csv" in written and "spotcheck-2026-430100.html" in written
    with (out / "spotcheck-2026-430100.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == sf.CSV_HEADER
    assert any(r[3] == WARM_SUN and r[6] == "2" and r[10] == "不通过" for r in rows)
    html = (out / "spotcheck-2026-430100.html").read_text(encoding="utf-8")
    assert "长沙市芙蓉区暖阳义工协会" in html and ITEMS[2] in html
