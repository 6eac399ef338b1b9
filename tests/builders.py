"""Builders for test content: checksum-valid invented numbers and content folders (STYLE 7).

Every value is synthetic. ``base_tables()`` is a small valid content set; tests override rows.
"""

from __future__ import annotations

import copy
import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from stdnum.cn import ric, uscc

from volcredit.importer.loader import LoadResult, load_content
from volcredit.settings import PublicityPeriods
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def id_number(area: str = "110101", birth: date = date(1990, 5, 17), seq: int = 123) -> str:
    """A checksum-valid, invented resident ID number (real area code, as stdnum requires)."""
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "X")


def uscc_code(region: str = "110101", serial: int = 1) -> str:
    """A checksum-valid, invented unified social credit code (GB 32100)."""
    digits = ""
    n = serial
    for _ in range(9):
        digits = USCC_ALPHABET[n % 31] + digits
        n //= 31
    body = f"51{region}{digits}"
    return body + uscc.calc_check_digit(body)


ORG_A = uscc_code("110101", 1)
ORG_B = uscc_code("430102", 2)
ADULT_ID = id_number("110101", date(1990, 5, 17), 123)
SECOND_ID = id_number("430102", date(1985, 2, 3), 456)
MINOR_ID = id_number("500103", date(2010, 8, 1), 789)


def base_tables() -> dict[str, list[dict[str, Any]]]:
    """A small valid content set: regions, two organisations, an adult, a minor, records."""
    return copy.deepcopy(
        {
            "regions": [
                {
                    "code": "110000",
                    "name": "北京市",
                    "parent": None,
                    "level": "province",
                    "population": 21850000,
                },
                {
                    "code": "110101",
                    "name": "东城区",
                    "parent": "110000",
                    "level": "county",
                    "population": 704000,
                },
                {
                    "code": "430000",
                    "name": "湖南省",
                    "parent": None,
                    "level": "province",
                    "population": 66040000,
                },
                {
                    "code": "430100",
                    "name": "长沙市",
                    "parent": "430000",
                    "level": "city",
                    "population": 10510000,
                },
                {
                    "code": "430102",
                    "name": "芙蓉区",
                    "parent": "430100",
                    "level": "county",
                    "population": 540000,
                },
                {
                    "code": "500000",
                    "name": "重庆市",
                    "parent": None,
                    "level": "province",
                    "population": 31910000,
                },
                {
                    "code": "500103",
                    "name": "渝中区",
                    "parent": "500000",
                    "level": "county",
                    "population": 590000,
                },
            ],
            "organisations": [
                {
                    "uscc": ORG_A,
                    "name": "东城区阳光志愿者协会",
                    "kind": "social_group",
                    "legal_representative": "周文澜",
                    "registration_authority": "东城区民政局",
                    "region": "110101",
                    "registered_on": date(2019, 3, 1),
                    "charter_volunteer_purpose": True,
                    "identified_on": date(2023, 6, 1),
                    "identification_basis": "name_keyword",
                    "contact_person": "孙可馨",
                    "contact_phone": "13900001111",
                    "address": "东城区示例路1号",
                },
                {
                    "uscc": ORG_B,
                    "name": "芙蓉区邻里互助中心",
                    "kind": "social_service_agency",
                    "legal_representative": "钱予安",
                    "registration_authority": "芙蓉区民政局",
                    "region": "430102",
                    "registered_on": date(2020, 5, 12),
                    "charter_volunteer_purpose": True,
                    "identified_on": None,
                },
            ],
            "volunteers": [
                {
                    "volunteer_no": "V0001",
                    "name": "林若溪",
                    "id_type": "resident_id",
                    "id_number": ADULT_ID,
                    "gender": "female",
                    "region": "110101",
                    "phone": "13800002222",
                    "service_area": "社区",
                    "skills": "急救",
                    "registered_on": date(2020, 1, 5),
                },
                {
                    "volunteer_no": "V0002",
                    "name": "陈景行",
                    "id_type": "resident_id",
                    "id_number": SECOND_ID,
                    "region": "430102",
                    "registered_on": date(2021, 4, 2),
                },
                {
                    "volunteer_no": "V0003",
                    "name": "何小禾",
                    "id_type": "resident_id",
                    "id_number": MINOR_ID,
                    "region": "500103",
                    "registered_on": date(2024, 9, 1),
                },
            ],
            "service_records": [
                {
                    "record_id": "R1",
                    "volunteer_no": "V0001",
                    "organisation": ORG_A,
                    "project": "社区助老",
                    "date": date(2025, 9, 1),
                    "hours": "3.5",
                    "punctuality": 5,
                    "attitude": 5,
                    "skill": 4,
                    "recorded_on": date(2025, 9, 2),
                },
                {
                    "record_id": "R2",
                    "volunteer_no": "V0003",
                    "organisation": ORG_A,
                    "project": "图书整理",
                    "date": date(2025, 9, 6),
                    "hours": "2",
                    "recorded_on": date(2025, 9, 8),
                },
            ],
            "honours": [
                {
                    "honour_id": "H1",
                    "subject_kind": "person",
                    "subject": "V0001",
                    "title": "优秀志愿者",
                    "kind": "commendation",
                    "authority": "东城区民政局",
                    "document_no": "东民发〔2025〕3号",
                    "awarded_on": date(2025, 3, 5),
                },
                {
                    "honour_id": "H2",
                    "subject_kind": "organisation",
                    "subject": ORG_A,
                    "title": "先进志愿服务组织",
                    "kind": "reward",
                    "authority": "北京市民政局",
                    "document_no": "京民发〔2025〕8号",
                    "awarded_on": date(2025, 5, 20),
                },
            ],
            "penalties": [
                {
                    "case_id": "P1",
                    "subject_kind": "organisation",
                    "subject": ORG_A,
                    "category": 2,
                    "facts": "向服务对象收取费用",
                    "decision_no": "东民罚〔2025〕1号",
                    "authority": "东城区民政局",
                    "decided_on": date(2025, 6, 2),
                    "procedure": "general",
                    "severity": "general",
                },
            ],
            "events": [],
        }
    )


def write_content(
    root: Path,
    tables: dict[str, list[dict[str, Any]]],
    csv_tables: tuple[str, ...] = ("service_records",),
) -> Path:
    """Write ``tables`` under ``root/data`` (CSV for ``csv_tables``, YAML otherwise)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for old in data.iterdir():
        old.unlink()
    for name, rows in tables.items():
        if name in csv_tables:
            write_csv(data / f"{name}.csv", rows)
        else:
            (data / f"{name}.yaml").write_text(
                yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    return root


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> None:
    columns = header or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else str(v) for k, v in row.items()})


RECORDED_AT = datetime(2026, 11, 21, 9, 0, 0)


def load(store: Store, root: Path, today: date = date(2026, 11, 21)) -> LoadResult:
    """Run the real loader on ``root`` with fixed dates."""
    return load_content(
        store, root, today=today, recorded_at=RECORDED_AT, actor="test", periods=PublicityPeriods()
    )


def row_count(store: Store, table: str) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(content_tables[table])).scalar_one()


def calendar_2027_fixture() -> dict[date, str]:
    """An INVENTED 2027 holiday arrangement for tests only (13 statutory days plus bridging days
    and two 调休 Saturdays). The State Council publishes the real one each December; this is not it.
    """
    spans = [
        ("2027-01-01", 3),
        ("2027-02-05", 9),
        ("2027-04-03", 3),
        ("2027-05-01", 5),
        ("2027-06-09", 3),
        ("2027-09-15", 3),
        ("2027-10-01", 7),
    ]
    days: dict[date, str] = {}
    for first, length in spans:
        start = date.fromisoformat(first)
        for i in range(length):
            days[start + timedelta(days=i)] = "holiday"
    days[date(2027, 2, 20)] = "workday"
    days[date(2027, 10, 9)] = "workday"
    return days
