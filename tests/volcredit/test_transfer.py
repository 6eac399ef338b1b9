"""Transferring a volunteer's whole record between regions (CQ-16) in the national standard's
elements (HN-3): export, import into another store without loss or duplication, refusal of
conflicting or tampered packages, persistence across loads, and the CLI, on SQLite and
PostgreSQL."""

from __future__ import annotations

import copy
import json
import stat
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from tests.builders import base_tables, load, write_content
from volcredit import announcements, certificates, overview, signing
from volcredit import publication as pub
from volcredit.certificates import CertificateRequest
from volcredit.cli import main
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import certificates as certificate_table
from volcredit.store.schema import content_tables, transfers
from volcredit.store.schema import history as history_table
from volcredit.transfer import checksum, export_volunteer, import_volunteer

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 9, 30)
# Records (one HN-2b excluded), training, an honour and a complaint.
PERSON = "BJ2024000102"
# Many records, two trainings, an honour and other info.
OTHER = "BJ2024000101"


@pytest.fixture
def target(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A second, empty but migrated store on the same backend as ``store``."""
    if store_url.startswith("sqlite"):
        s = open_store(f"sqlite:///{tmp_path / 'target.sqlite3'}")
        yield s
        s.dispose()
        return
    admin_url = request.getfixturevalue("postgres_admin")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    s = open_store(f"{admin_url}?options=-csearch_path%3D{schema}")
    try:
        yield s
    finally:
        s.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def source(store: Store, tmp_path: Path) -> Store:
    """The sample content, plus certificates (one superseded) and a BJ-17b deletion request."""
    assert load(store, CONTENT, TODAY).ok
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    with store.write() as conn:
        req = CertificateRequest(PERSON)
        certificates.issue(conn, req, date(2026, 10, 1), "staff", NOW, key, "朝阳区民政局")
        certificates.issue(conn, req, TODAY, "staff", NOW, key, "朝阳区民政局")
        request = history.NewEvent(
            "HON-2025-005",
            "deletion_requested",
            date(2026, 2, 1),
            "portal:a1",
            "portal",
            "本人申请",
        )
        history.append(conn, [request], NOW)
    return store


def export(store: Store, volunteer_no: str) -> dict[str, Any]:
    with store.read() as conn:
        package = export_volunteer(conn, volunteer_no, TODAY, authority="朝阳区民政局")
    return json.loads(json.dumps(package))  # exactly what a file holds


def import_(store: Store, package: dict[str, Any], today: date = TODAY):  # type: ignore[no-untyped-def]
    with store.write() as conn:
        return import_volunteer(conn, package, today, "cli:test", NOW)


def _rows(conn: Any, table: str, where: Any) -> list[dict[str, Any]]:
    t = content_tables[table]
    rows = [
        {k: v for k, v in r._mapping.items() if k not in ("row_id", "source_line")}
        for r in conn.execute(select(t).where(where))
    ]
    return sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))


def held(store: Store, volunteer_no: str, *, certificates_too: bool = True) -> dict[str, Any]:
    """Every row about the volunteer, as row dicts without surrogate keys, and their events
    (without the certificates and their events if not ``certificates_too``)."""
    t = content_tables
    with store.read() as conn:
        records = _rows(
            conn, "service_records", t["service_records"].c.volunteer_no == volunteer_no
        )
        trainings = _rows(conn, "trainings", t["trainings"].c.volunteer_no == volunteer_no)
        orgs = {r["organisation"] for r in records + trainings}
        out: dict[str, Any] = {
            "volunteer": _rows(conn, "volunteers", t["volunteers"].c.volunteer_no == volunteer_no),
            "service_time": records,
            "training": trainings,
            "teams": _rows(conn, "organisations", t["organisations"].c.uscc.in_(orgs)),
        }
        for table in ("honours", "complaints", "other_info"):
            c = t[table].c
            out[table] = _rows(
                conn, table, (c.subject_kind == "person") & (c.subject == volunteer_no)
            )
        certs = conn.execute(
            select(certificate_table).where(certificate_table.c.volunteer_no == volunteer_no)
        )
        out["certificates"] = sorted((dict(r._mapping) for r in certs), key=str)
        if not certificates_too:
            out.pop("certificates")
        refs = [h["honour_id"] for h in out["honours"]]
        refs += [c["certificate_no"] for c in out.get("certificates", [])]
        h = history_table
        out["events"] = sorted(
            (
                r.ref,
                r.event,
                r.date,
                r.note,
                json.dumps({k: v for k, v in (r.payload or {}).items() if k != "transferred"}),
            )
            for r in conn.execute(select(h).where(h.c.ref.in_(refs)))
        )
        if certificates_too:
            out["status"] = [
                (c.certificate_no, c.status, c.superseded_by)
                for c in certificates.of_volunteer(conn, volunteer_no, TODAY)
            ]
    return out


def counts(store: Store) -> dict[str, int]:
    tables = {**content_tables, "certificates": certificate_table, "history": history_table}
    tables["transfers"] = transfers
    with store.read() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for name, t in tables.items()
        }


def resealed(package: dict[str, Any]) -> dict[str, Any]:
    package["sha256"] = checksum(package)
    return package


def test_cq16_hn3_round_trip_of_sample_volunteers_gives_equal_rows(
    source: Store, target: Store
) -> None:
    """CQ-16, HN-3: every element arrives without loss — volunteer, service time with HN-2b
    kinds and HN-2a flags, training, honours with their BJ-17b event, complaints, other info,
    teams — and shared regions are not duplicated. The certificates (with their status events)
    are the issuing region's signed statements: kept with the package, reported as such, never
    put in the target's certificates or history (CQ-17)."""
    first, second = export(source, PERSON), export(source, OTHER)
    assert first["format"] == "volcredit-volunteer-transfer" and first["version"] == 1
    assert [r["code"] for r in first["regions"]] == ["110000", "110105"]
    assert {r["excluded_kind"] for r in first["service_time"]} == {None, 3}
    assert all(isinstance(r["hours"], str) for r in first["service_time"])
    assert first["honours"][0]["events"][0]["event"] == "deletion_requested"
    assert [c["status"] for c in first["certificates"]] == ["superseded", "valid"]
    assert first["evaluation_and_complaints"] and second["other_info"]
    assert sum(p["records"] for p in first["projects"]) == len(first["service_time"])

    done = import_(target, first)
    assert done.ok and not done.warnings, [str(p) for p in done.problems]
    assert done.inserted["service_time"] == 15 and "certificates" not in done.inserted
    assert done.kept == {"certificates": 2}
    again = import_(target, second)
    assert again.ok, [str(p) for p in again.problems]
    assert again.skipped["regions"] >= 1  # 北京市 came with the first volunteer

    for volunteer in (PERSON, OTHER):
        mine = held(target, volunteer, certificates_too=False)
        assert mine == held(source, volunteer, certificates_too=False), volunteer
    with target.read() as conn:
        assert certificates.of_volunteer(conn, PERSON, TODAY) == []
        numbers = [c["certificate_no"] for c in first["certificates"]]
        assert (
            conn.execute(select(history_table).where(history_table.c.ref.in_(numbers))).all() == []
        )
        (kept,) = conn.execute(
            select(transfers.c.package).where(transfers.c.sha256 == first["sha256"])
        ).scalars()
        assert kept["certificates"] == first["certificates"]  # nothing lost: kept with the package
        entry = list(history.entries(conn, PERSON))[-1]
    assert entry.event == "volunteer_imported" and entry.source == "transfer"
    assert entry.payload == {"sha256": first["sha256"], "counts": done.inserted}
    # Exported again from the target, the package says the same (only its origin differs).
    moved = export(target, PERSON)
    for package in (moved, first):
        for key in ("sha256", "source", "honours", "certificates"):
            package.pop(key)
    assert moved == first


def test_cq16_importing_twice_changes_nothing(source: Store, target: Store) -> None:
    """CQ-16: no duplication — a second import of the same package writes nothing at all."""
    package = export(source, PERSON)
    assert import_(target, package).changed
    before = counts(target)
    result = import_(target, package)
    assert result.ok and not result.changed
    assert sum(result.inserted.values()) == 0 and result.skipped["service_time"] == 15
    assert counts(target) == before


def test_cq16_conflicting_row_is_refused_by_element_row_and_field(
    source: Store, target: Store
) -> None:
    """CQ-16: a row present with other values is named (element, row, field) and nothing is
    written, not even the rows that are new."""
    package = export(source, PERSON)
    assert import_(target, package).ok
    before = counts(target)
    changed = copy.deepcopy(package)
    changed["service_time"][2]["hours"] = "1.50"
    changed["volunteer"]["phone"] = "13900009999"
    extra = {**changed["service_time"][0], "record_id": "SR-NEW-1", "date": "2026-01-03"}
    extra["recorded_on"] = "2026-01-05"
    changed["service_time"].append(extra)
    result = import_(target, resealed(changed))
    assert not result.ok
    where = {p.where for p in result.problems}
    assert where == {"service_time[2].hours", "volunteer.phone"}
    assert counts(target) == before


def test_cq16_tampered_or_invalid_package_is_refused(source: Store, target: Store) -> None:
    """CQ-16: a changed byte fails the checksum; rows go through the loader's own field checks
    (BJ-7 ID numbers, CQ-9 hours, unknown fields, BJ-6 forbidden data), each named."""
    package = export(source, PERSON)
    before = counts(target)
    tampered = copy.deepcopy(package)
    tampered["service_time"][0]["hours"] = "12.00"
    result = import_(target, tampered)
    assert [p.where for p in result.problems] == ["package.sha256"]

    bad = copy.deepcopy(package)
    bad["volunteer"]["id_number"] = bad["volunteer"]["id_number"][:-1] + "0"
    bad["volunteer"]["blood_type"] = "A"
    bad["service_time"][1]["hours"] = "25"
    bad["training"][0]["shoe_size"] = "42"
    bad["evaluation_and_complaints"][0]["received_on"] = "2025-13-01"
    bad["honours"][0]["events"][0]["date"] = "2025-01-01"
    result = import_(target, resealed(bad))
    found = {(p.where, p.rule) for p in result.problems}
    assert ("volunteer.blood_type", "BJ-6") in found
    assert ("service_time[1].hours", "CQ-9") in found
    assert ("training[0].shoe_size", "") in found
    assert ("evaluation_and_complaints[0].received_on", "") in found
    assert ("honours[0].events[0].date", "BJ-17b") in found

    bad = copy.deepcopy(package)
    bad["volunteer"]["id_number"] = bad["volunteer"]["id_number"][:-1] + (
        "0" if bad["volunteer"]["id_number"][-1] != "0" else "1"
    )
    result = import_(target, resealed(bad))
    assert {(p.where, p.rule) for p in result.problems} == {("volunteer.id_number", "BJ-7")}

    wrong = copy.deepcopy(package)
    wrong["version"] = 2
    assert [p.where for p in import_(target, wrong).problems] == ["package.version"]
    assert counts(target) == before


def test_cq16_loads_keep_imported_volunteer_and_platform_data_wins(
    source: Store, target: Store, tmp_path: Path
) -> None:
    """CQ-16: a later load without the volunteer keeps every transferred row (re-applied from
    the stored package); a load that holds the volunteer wins for the rows it holds."""
    tables = base_tables()
    assert load(target, write_content(tmp_path / "base", tables), TODAY).ok
    package = export(source, PERSON)
    result = import_(target, package)
    assert result.ok
    # 北京市 is in both stores with different populations: the receiving store's row stays.
    assert [w.where for w in result.warnings] == ["regions[0].population"]
    expected = held(target, PERSON)

    again = load(target, write_content(tmp_path / "base", tables), TODAY)
    assert again.ok, again.log.lines()
    assert held(target, PERSON) == expected
    with target.read() as conn:
        loaded = list(history.entries(conn, "content"))[-1]
    assert loaded.payload is not None and loaded.payload["transferred"]["service_records"] == 15

    platform = base_tables()
    platform["regions"] += [r for r in package["regions"] if r["code"] == "110105"]
    platform["organisations"] += package["teams"]
    platform["volunteers"].append({**package["volunteer"], "phone": "13900009999"})
    first = {k: v for k, v in package["service_time"][0].items() if k != "late_entry"}
    platform["service_records"].append({**first, "content": "平台更正"})
    assert load(target, write_content(tmp_path / "platform", platform), TODAY).ok
    now = held(target, PERSON)
    assert now["volunteer"][0]["phone"] == "13900009999"
    assert len(now["service_time"]) == 15
    by_id = {r["record_id"]: r for r in now["service_time"]}
    assert by_id[package["service_time"][0]["record_id"]]["content"] == "平台更正"
    assert now["certificates"] == expected["certificates"]


def test_cq16_stored_packages_are_insert_only(source: Store, target: Store) -> None:
    """CQ-16: the stored package that later loads re-apply cannot be edited or deleted."""
    assert import_(target, export(source, PERSON)).ok
    with pytest.raises(DBAPIError), target.write() as conn:
        conn.execute(update(transfers).values(actor="x"))
    with pytest.raises(DBAPIError), target.write() as conn:
        conn.execute(transfers.delete())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cq16_cli_export_and_import_round_trip(
    source: Store, target: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CQ-16: ``export-volunteer`` writes a 0600 file (personal data, CQ-15) and logs the
    export (BJ-15); ``import-volunteer`` prints counts, then nothing to do; problems one per
    line as ``FILE: element[row].field: message`` with exit 1."""
    out = tmp_path / "pkg.json"
    code, said, err = run(
        capsys, "export-volunteer", PERSON, "--out", str(out), "--db", source.url,
        "--today", TODAY.isoformat(),
    )  # fmt: skip
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "sha256" in said
    code, said, err = run(capsys, "import-volunteer", str(out), "--db", target.url)
    assert code == 0, err
    assert "新增" in said and "service_time 15" in said
    assert "随档案包保存" in said and "certificates 2" in said.split("随档案包保存", 1)[1]
    code, said, _ = run(capsys, "import-volunteer", str(out), "--db", target.url)
    assert code == 0 and "已经导入过" in said

    package = json.loads(out.read_text(encoding="utf-8"))
    package["service_time"][0]["hours"] = "1.00"
    out.write_text(json.dumps(resealed(package), ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "import-volunteer", str(out), "--db", target.url)
    assert code == 1
    assert f"{out}: service_time[0].hours: " in err.splitlines()[0]

    out.write_text('{"hours": 1.5}', encoding="utf-8")
    code, _, err = run(capsys, "import-volunteer", str(out), "--db", target.url)
    assert code == 1 and err.startswith(f"{out}: ")
    code, _, err = run(capsys, "export-volunteer", "NOPE", "--out", str(out), "--db", source.url)
    assert code == 1 and "NOPE" in err
    from volcredit import access_log

    with source.read() as conn:
        logged = access_log.about(conn, "person", PERSON)
    assert logged and logged[0]["reference"].startswith("CQ-16")


def test_cq16_references_resolve_in_the_package_or_the_store(source: Store, target: Store) -> None:
    """CQ-16: a team the records refer to must come with the package or be in the store."""
    package = export(source, PERSON)
    bare = copy.deepcopy(package)
    bare["teams"] = []
    result = import_(target, resealed(bare))
    assert {p.where for p in result.problems} == {
        *(f"service_time[{i}].organisation" for i in range(15)),
        "training[0].organisation",
    }
    assert import_(target, package).ok
    other = copy.deepcopy(bare)
    other["source"]["authority"] = "另一个部门"  # a different package, same rows
    result = import_(target, resealed(other))
    assert result.ok and result.stored and not any(result.inserted.values())


def test_cq16_hn1d_transferred_teams_and_regions_stay_references(
    source: Store, target: Store
) -> None:
    """CQ-16, HN-1d, PUB-2: the teams and regions that come with a volunteer are references for
    the records: the receiving store neither publishes the other region's organisations nor
    expects announcements or coverage figures from regions it does not govern."""
    package = export(source, PERSON)
    assert import_(target, package).changed
    with target.read() as conn:
        assert list(pub.organisations(conn, TODAY)) == []
        regions = pub.regions(conn)
        assert regions and all(r.transferred for r in regions.values())
        assert announcements.announcing_regions(regions) == []
        assert announcements.coverage_by_region(conn, TODAY) == []
        assert list(announcements.lateness(conn, date(2026, 7, 1))) == []
    with source.read() as conn:  # in the source store the same rows are its own
        published = {o.uscc for o in pub.organisations(conn, TODAY)}
    assert published & {t["uscc"] for t in package["teams"]}


def test_cq16_certificate_numbered_like_a_case_cannot_touch_the_case(
    source: Store, target: Store, tmp_path: Path
) -> None:
    """CQ-16, CQ-17: the reviewer's attack — a "certificate" numbered like a penalty case of the
    receiving store, with a ``certificate_revoked`` event and any payload — is harmless: the
    certificate stays in the package, nothing joins the case's history, the case replays as
    before, a later load still succeeds, and no transferred certificate is shown."""
    assert load(target, CONTENT, TODAY).ok
    case = "VP-2026-001"
    with target.read() as conn:
        before = list(history.entries(conn, case))
        cases_before = [c.as_json() for c in overview.cases(conn, TODAY, PublicityPeriods())]
    package = export(source, PERSON)
    forged = copy.deepcopy(package["certificates"][0])
    forged.update(certificate_no=case, payload={"anything": 1})
    forged["events"] = [
        {
            "event": "certificate_revoked",
            "date": "2026-11-01",
            "note": "x",
            "actor": "a",
            "source": "cli",
            "recorded_at": "2026-11-01T00:00:00",
            "payload": None,
        }
    ]
    package["certificates"].append(forged)
    result = import_(target, resealed(package))
    assert result.ok, [str(p) for p in result.problems]
    assert result.kept == {"certificates": 3}
    with target.read() as conn:
        assert list(history.entries(conn, case)) == before
        after = [c.as_json() for c in overview.cases(conn, TODAY, PublicityPeriods())]
        assert after == cases_before
        assert certificates.of_volunteer(conn, PERSON, TODAY) == []
        assert conn.execute(select(func.count()).select_from(certificate_table)).scalar_one() == 0
    again = load(target, CONTENT, TODAY)
    assert again.ok, again.log.lines()


def test_cq16_honour_numbered_like_a_case_is_refused_by_element_row_and_field(
    source: Store, target: Store
) -> None:
    """CQ-16: an honour whose id is a penalty case id of the receiving store (its deletion
    request would join the case's history) is refused, naming ``honours[0].honour_id``; so is a
    record id equal to an honour id, and an honour event other than ``deletion_requested``
    (BJ-17b). Nothing is written."""
    assert load(target, CONTENT, TODAY).ok
    before = counts(target)
    package = export(source, PERSON)
    assert package["honours"][0]["events"]
    attack = copy.deepcopy(package)
    attack["honours"][0]["honour_id"] = "VP-2026-001"
    attack["service_time"][3]["record_id"] = "HON-2025-005"
    result = import_(target, resealed(attack))
    found = {(p.where, p.rule) for p in result.problems}
    assert ("honours[0].honour_id", "CQ-16") in found, [str(p) for p in result.problems]
    assert any("VP-2026-001" in p.message for p in result.problems)
    assert ("service_time[3].record_id", "CQ-16") in found
    assert counts(target) == before

    other = copy.deepcopy(package)
    other["honours"][0]["events"][0]["event"] = "certificate_revoked"
    result = import_(target, resealed(other))
    assert [p.where for p in result.problems] == ["honours[0].events[0].event"]
    assert counts(target) == before


def test_cq16_store_history_of_another_kind_under_an_honour_id_is_refused(
    source: Store, target: Store
) -> None:
    """CQ-16: if the receiving store's history already holds events of another kind under the
    package's honour id (here a certificate revocation), the honour is refused."""
    package = export(source, PERSON)
    ref = package["honours"][0]["honour_id"]
    with target.write() as conn:
        event = history.NewEvent(ref, "certificate_revoked", TODAY, "staff", "cli", "x")
        history.append(conn, [event], NOW)
    before = counts(target)
    result = import_(target, package)
    assert [p.where for p in result.problems] == ["honours[0].honour_id"]
    assert "certificate_revoked" in result.problems[0].message
    assert counts(target) == before
