"""Bad input of every shape gets a clear ``file:line: field`` problem, never a traceback, and
events that the rules refuse never slip in (BJ-16, BJ-17b, BJ-18, PERIOD, BJ-6)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import exc, select

from tests.builders import base_tables, calendar_2027_fixture, load, row_count, write_content
from volcredit.problems import Severity
from volcredit.store import history
from volcredit.store.engine import Store, safe_error_message
from volcredit.store.schema import content_tables


def errors(result) -> list[tuple[str, int, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (Path(p.file).name, p.line, p.field, p.rule)
        for p in result.log.kept
        if p.severity is Severity.ERROR
    ]


def event(ref: str, kind: str, day: date) -> dict[str, object]:
    return {"ref": ref, "event": kind, "date": day, "note": None}


def test_bj16_events_dated_before_the_decision_are_refused(store: Store, tmp_path: Path) -> None:
    """BJ-16: no event of a case can come before its penalty decision (P1: 2025-06-02)."""
    tables = base_tables()
    tables["events"] = [
        event("P1", "notice_served", date(2025, 5, 1)),
        event("P1", "decided_listed", date(2025, 5, 2)),
    ]
    result = load(store, write_content(tmp_path / "c", tables))
    assert errors(result) == [("events.yaml", 1, "event", "BJ-16")]


def test_bj16_reload_cannot_contradict_recorded_history(store: Store, tmp_path: Path) -> None:
    """BJ-23/BJ-16: history is never edited, so a reload whose penalty facts no longer fit the
    recorded events is refused, naming the penalty row."""
    tables = base_tables()
    tables["events"] = [event("P1", "notice_served", date(2025, 6, 3))]
    assert load(store, write_content(tmp_path / "a", tables)).ok
    tables["events"] = []
    tables["penalties"][0]["decided_on"] = date(2025, 7, 1)
    result = load(store, write_content(tmp_path / "b", tables))
    assert [(f, field) for f, _, field, _ in errors(result)] == [("penalties.yaml", "decided_on")]
    tables["penalties"] = []
    result = load(store, write_content(tmp_path / "c", tables))
    assert result.ok  # a case dropped from the data: its history stays, with a warning
    assert any("历史记录保留不变" in p.message for p in result.log.kept)


def test_period_partial_calendar_year_is_refused(store: Store, tmp_path: Path) -> None:
    """PERIOD: a year's workdays with fewer holidays than the statutory minimum is refused."""
    tables = base_tables()
    tables["workdays"] = [{"date": date(2027, 1, 1), "kind": "holiday"}]
    result = load(store, write_content(tmp_path / "c", tables))
    assert errors(result) == [("workdays.yaml", 0, "kind", "PERIOD")]
    tables["workdays"] = [{"date": d, "kind": k} for d, k in calendar_2027_fixture().items()]
    assert load(store, write_content(tmp_path / "ok", tables)).ok


def test_period_late_december_notice_loads_before_next_years_calendar(
    store: Store, tmp_path: Path
) -> None:
    """PERIOD: a notice on 2026-12-24 loads; a statement in 2027 needs the 2027 calendar."""
    tables = base_tables()
    tables["penalties"][0]["decided_on"] = date(2026, 12, 1)
    tables["events"] = [event("P1", "notice_served", date(2026, 12, 24))]
    assert load(store, write_content(tmp_path / "a", tables), today=date(2026, 12, 28)).ok
    tables["events"].append(event("P1", "statement_received", date(2027, 1, 5)))
    result = load(store, write_content(tmp_path / "b", tables), today=date(2027, 1, 6))
    assert errors(result) == [("events.yaml", 5, "date", "PERIOD")]  # the statement's row
    tables["workdays"] = [{"date": d, "kind": k} for d, k in calendar_2027_fixture().items()]
    assert load(store, write_content(tmp_path / "c", tables), today=date(2027, 1, 6)).ok


def test_bj17b_deletion_before_award_refused_and_future_events_warned(
    store: Store, tmp_path: Path
) -> None:
    tables = base_tables()
    tables["events"] = [event("H1", "deletion_requested", date(2025, 3, 4))]
    assert errors(load(store, write_content(tmp_path / "a", tables))) == [
        ("events.yaml", 1, "date", "BJ-17b")
    ]
    tables["events"] = [event("H1", "deletion_requested", date(2027, 3, 4))]
    result = load(store, write_content(tmp_path / "b", tables), today=date(2026, 11, 21))
    assert result.ok
    assert [p.field for p in result.log.kept if p.severity is Severity.WARNING] == ["date"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("awarded_on: 2025-02-30", "awarded_on"),
        ("awarded_on: 2025-03-05 25:00:00", "awarded_on"),
        ("awarded_on: 9999-12-31", "awarded_on"),
        ("title: [a, b]", "title"),
    ],
)
def test_yaml_values_that_crashed_parsers_are_field_errors(
    store: Store, tmp_path: Path, text: str, field: str
) -> None:
    root = write_content(tmp_path / "c", base_tables())
    path = root / "data/honours.yaml"
    key = text.split(":")[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:"))
    lines[index] = lines[index].split(key)[0] + text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load(store, root)
    assert [(f, line, fld) for f, line, fld, _ in errors(result)] == [
        ("honours.yaml", index + 1, field)
    ]


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        ("- name: \x01bad\n", 1),
        ("[" * 5000 + "]" * 5000, 1),
        ("- a: 1\n  a: 2\n", 2),
        ("- {code: '110000', name: 北京市, level: province, code: '120000'}\n", 1),
    ],
)
def test_unreadable_yaml_is_reported_not_raised(
    store: Store, tmp_path: Path, payload: str, line: int
) -> None:
    root = write_content(tmp_path / "c", base_tables())
    (root / "data/regions.yaml").write_text(payload, encoding="utf-8")
    result = load(store, root)
    assert not result.ok
    assert any(Path(p.file).name == "regions.yaml" and p.line == line for p in result.log.kept)


def test_yaml_text_is_taken_as_written(store: Store, tmp_path: Path) -> None:
    """YAML 1.1 must not rewrite codes and words: 0012 stays 0012, yes stays yes."""
    root = write_content(tmp_path / "c", base_tables())
    path = root / "data/volunteers.yaml"
    text = path.read_text(encoding="utf-8").replace("volunteer_no: V0002", "volunteer_no: 0012")
    path.write_text(text.replace("name: 陈景行", "name: yes"), encoding="utf-8")
    assert load(store, root).ok
    v = content_tables["volunteers"]
    with store.read() as conn:
        row = conn.execute(select(v.c.volunteer_no, v.c.name).where(v.c.name == "yes")).one()
    assert tuple(row) == ("0012", "yes")


@pytest.mark.parametrize(
    ("table", "field", "value"),
    [
        ("volunteers", "id_number", "E" * 40),
        ("service_records", "organisation", "9" * 30),
        ("service_records", "project", "社区\x00助老"),
        ("regions", "population", "99999999999999999999999"),
        ("regions", "population", "3000000000"),
        ("service_records", "date", "9999-12-31"),
    ],
)
def test_values_beyond_the_columns_are_field_errors(
    store: Store, tmp_path: Path, table: str, field: str, value: str
) -> None:
    """Too long, NUL, too large, out of range: refused by validation on both databases."""
    tables = base_tables()
    tables["volunteers"][0]["id_type"] = "passport"
    tables["volunteers"][0]["birth_date"] = date(1990, 5, 17)
    tables[table][0][field] = value
    result = load(store, write_content(tmp_path / "c", tables))
    assert not result.ok
    assert (table, field) in {(Path(p.file).stem, p.field) for p in result.log.kept}


def test_bj6_refusal_is_not_buried_under_follow_on_errors(store: Store, tmp_path: Path) -> None:
    """BJ-6: one forbidden column gives that error and one note, not a reference cascade."""
    tables = base_tables()
    tables["volunteers"][0]["血型"] = "A"
    result = load(store, write_content(tmp_path / "c", tables))
    assert [p.rule for p in result.log.kept] == ["BJ-6", ""]
    assert "跨表检查未进行" in result.log.kept[1].message


def test_every_ragged_csv_row_is_reported_and_bad_bytes_located(
    store: Store, tmp_path: Path
) -> None:
    root = write_content(tmp_path / "c", base_tables())
    path = root / "data/service_records.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([*lines, "R8,V0001", "R9,V0001", *lines[1:2]]) + "\n", encoding="utf-8"
    )
    result = load(store, root)
    ragged = sorted(p.line for p in result.log.kept if "列" in p.message and p.field == "")
    assert ragged == [4, 5]
    path.write_bytes(path.read_bytes() + b"R10,V0001,\xff\xfe\n")
    result = load(store, root)
    assert any(p.line == 7 and "UTF-8" in p.message for p in result.log.kept)


@pytest.mark.parametrize("after_deletes", [False, True])
def test_interrupted_load_leaves_previous_data_usable(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_deletes: bool
) -> None:
    """All or nothing: a crash before the swap, or after the live tables were emptied inside
    it, leaves them as they were, and the next load works."""
    assert load(store, write_content(tmp_path / "a", base_tables())).ok
    from volcredit.importer import staging

    real = staging.swap_into_live

    def crash(conn):  # type: ignore[no-untyped-def]
        if after_deletes:
            real(conn)
        raise KeyboardInterrupt

    monkeypatch.setattr(staging, "swap_into_live", crash)
    changed = base_tables()
    changed["volunteers"] = changed["volunteers"][:2]
    changed["service_records"] = changed["service_records"][:1]
    with pytest.raises(KeyboardInterrupt):
        load(store, write_content(tmp_path / "b", changed))
    assert row_count(store, "volunteers") == 3
    with store.read() as conn:
        assert history.verify(conn).count == 1
    monkeypatch.undo()
    assert load(store, write_content(tmp_path / "b", changed)).ok
    assert row_count(store, "volunteers") == 2


def test_database_errors_never_show_row_values(store: Store) -> None:
    """Privacy: error text for people never carries row values (hidden parameters, no DETAIL)."""
    secret = "110101199005171238"
    with pytest.raises(exc.DBAPIError) as err, store.write() as conn:
        conn.execute(history.history.insert(), [{"seq": 1, "ref": secret}])  # type: ignore[attr-defined]
    assert "[SQL parameters hidden" in str(err.value)
    message = safe_error_message(err.value)
    assert secret not in message and message


def test_cli_reports_a_database_error_in_one_safe_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from volcredit.cli import main

    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"this is not a database file, 110101199005171238")
    assert main(["cases", "--db", f"sqlite:///{path}"]) == 1
    err = capsys.readouterr().err
    assert "数据库错误" in err and "Traceback" not in err and "110101199005171238" not in err
