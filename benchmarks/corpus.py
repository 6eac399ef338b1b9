"""A deterministic synthetic corpus at national scale, as the data contract's CSV files.

    .venv/bin/python benchmarks/corpus.py --entries 100000 --records 1000000 --out DIR

Writes ``DIR/data/*.csv`` (streamed, row by row: memory stays flat at any size) for ``--entries``
public entries and ``--records`` service records behind them, all invented: names from word
pools, checksum-valid USCCs (GB 32100) and resident ID numbers (GB 11643, real area codes as
python-stdnum requires; each number once). The same arguments always give the same bytes.

Proportions of the public entries: 80% identified organisations (each with its own page), 17%
honours (two thirds to organisations, a third to volunteers, every one an adult), 3% disclosures
(bad-info cases of general severity, notice served and listed when the statement period ran out,
inside their publicity window on the benchmark date 2026-11-21; two thirds organisations). Behind
them: 5% more organisations that are not identified (not public), volunteers (a tenth of the
records, at least enough for the honours and cases) and the service records (never public).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.hunan import national_regions  # noqa: E402
from benchmarks.portal_data import (  # noqa: E402
    COUNTY_CODES,
    PROJECTS,
    person_name,
    register_name,
    volunteer_no,
)
from benchmarks.synthetic import write_table  # noqa: E402
from tests.builders import id_number, uscc_code  # noqa: E402 - synthetic, checksum-valid

TODAY = date(2026, 11, 21)
SEED = 20261121
BORN = date(1960, 1, 1)  # volunteers are born 1960-2001: adults on every date used here
BIRTH_DAYS = 15_000
HOURS = ("1", "1.5", "2", "2.5", "3", "4")
HONOUR_TITLES = ("优秀志愿服务组织", "五星志愿服务组织", "优秀志愿者", "五星志愿者")
FACTS = (
    "以志愿服务名义向服务对象收取费用",
    "未经同意公开志愿者个人信息",
    "伪造志愿服务记录，虚增服务时长",
    "以志愿服务名义进行营利活动",
    "未如实记录志愿服务信息",
)


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind ``entries`` and ``records`` make."""

    entries: int
    records: int
    identified: int
    organisations: int
    honours: int
    person_honours: int
    disclosures: int
    person_disclosures: int
    volunteers: int

    @classmethod
    def of(cls, entries: int, records: int) -> Plan:
        identified = max(1, entries * 80 // 100)
        honours = entries * 17 // 100
        disclosures = max(0, entries - identified - honours)
        person_honours, person_disclosures = honours // 3, disclosures // 3
        volunteers = max(records // 10, person_honours + person_disclosures, 100)
        return cls(
            entries,
            records,
            identified,
            identified + entries // 20,
            honours,
            person_honours,
            disclosures,
            person_disclosures,
            volunteers,
        )


def _mix(i: int) -> int:
    """A cheap, deterministic scramble of ``i`` (spreads neighbours over the regions)."""
    return (i * 2_654_435_761 + 97) % 4_294_967_291


class Corpus:
    """Row generators; every row is a pure function of its index (and the regions)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.regions = national_regions(random.Random(SEED))
        self.counties = [r for r in self.regions if r[3] == "county"]

    def org_region(self, k: int) -> tuple[str, str]:
        code, name, *_ = self.counties[_mix(k) % len(self.counties)]
        return code, name

    def uscc(self, k: int) -> str:
        return uscc_code(self.org_region(k)[0], k + 1)

    def region_rows(self) -> Iterator[dict[str, Any]]:
        for code, name, parent, level, population in self.regions:
            yield {
                "code": code,
                "name": name,
                "parent": parent,
                "level": level,
                "population": population,
            }

    def organisation_rows(self) -> Iterator[dict[str, Any]]:
        for k in range(self.plan.organisations):
            code, rname = self.org_region(k)
            identified = k < self.plan.identified
            name = register_name(k) if identified else f"{rname}第{k}公益服务社"
            keyword = "志愿" in name or "义工" in name
            identified_on = date(2019, 1, 1) + timedelta(days=_mix(k) % 2700)
            yield {
                "uscc": uscc_code(code, k + 1),
                "name": name,
                "kind": "social_group" if k % 3 else "social_service_agency",
                "legal_representative": person_name(k + 7),
                "registration_authority": f"{rname}民政局",
                "region": code,
                "registered_on": (date(2008, 1, 1) + timedelta(days=k % 3900)).isoformat(),
                "charter_volunteer_purpose": "true" if identified else "false",
                "identified_on": identified_on.isoformat() if identified else None,
                "identification_basis": (
                    ("name_keyword" if keyword else "charter_verified") if identified else None
                ),
                "identification_removed_on": None,
            }

    def volunteer_rows(self) -> Iterator[dict[str, Any]]:
        areas = len(COUNTY_CODES)
        for i in range(self.plan.volunteers):
            birth = BORN + timedelta(days=(i // areas) % BIRTH_DAYS)
            yield {
                "volunteer_no": volunteer_no(i),
                "name": person_name(i),
                "id_type": "resident_id",
                "id_number": id_number(COUNTY_CODES[i % areas], birth, i // (areas * BIRTH_DAYS)),
                "birth_date": birth.isoformat(),
                "region": self.counties[_mix(i + 11) % len(self.counties)][0],
                "registered_on": (date(2019, 1, 1) + timedelta(days=i % 1800)).isoformat(),
            }

    def record_rows(self) -> Iterator[dict[str, Any]]:
        """Each volunteer serves on distinct days (never over 24 hours on one date)."""
        p = self.plan
        start = date(2024, 1, 1)
        for r in range(p.records):
            day = start + timedelta(days=(r // p.volunteers) % 1000)
            project, place, content = PROJECTS[r % len(PROJECTS)]
            score = 3 + r % 3
            yield {
                "record_id": f"R{r:09d}",
                "volunteer_no": volunteer_no(r % p.volunteers),
                "organisation": self.uscc(_mix(r) % p.identified),
                "project": project,
                "date": day.isoformat(),
                "place": place,
                "content": content,
                "hours": HOURS[r % len(HOURS)],
                "punctuality": score,
                "attitude": score,
                "skill": score,
                "recorded_on": (day + timedelta(days=2)).isoformat(),
            }

    def honour_rows(self) -> Iterator[dict[str, Any]]:
        p = self.plan
        for h in range(p.honours):
            person = h < p.person_honours
            year = 2021 + h % 6
            awarded = date(year, 1 + h % 9, 10 + h % 15)
            if awarded >= TODAY:
                awarded = awarded.replace(year=2025)
            yield {
                "honour_id": f"H{h:08d}",
                "subject_kind": "person" if person else "organisation",
                "subject": (
                    volunteer_no((h * 7) % p.volunteers)
                    if person
                    else self.uscc((h * 3) % p.identified)
                ),
                "title": HONOUR_TITLES[2 * person + h % 2],
                "kind": "five_star" if h % 2 else "commendation",
                "authority": "示例民政厅",
                "document_no": f"示民发〔{awarded.year}〕{1 + h % 60}号",
                "awarded_on": awarded.isoformat(),
            }

    def _decided(self, i: int) -> date:
        return date(2026, 1, 5) + timedelta(days=i % 200)

    def penalty_rows(self) -> Iterator[dict[str, Any]]:
        p = self.plan
        for i in range(p.disclosures):
            person = i < p.person_disclosures
            decided = self._decided(i)
            yield {
                "case_id": f"P{i:08d}",
                "subject_kind": "person" if person else "organisation",
                "subject": (
                    volunteer_no((i * 13 + 5) % p.volunteers)
                    if person
                    else self.uscc((i * 11 + 1) % p.identified)
                ),
                "category": 1 + i % 5,
                "facts": FACTS[i % len(FACTS)],
                "decision_no": f"示民罚决字〔2026〕第{i + 1}号",
                "authority": "示例民政局",
                "decided_on": decided.isoformat(),
                "procedure": "general",
                "severity": "general",
            }

    def event_rows(self) -> Iterator[dict[str, Any]]:
        for i in range(self.plan.disclosures):
            yield {
                "ref": f"P{i:08d}",
                "event": "notice_served",
                "date": (self._decided(i) + timedelta(days=2)).isoformat(),
                "note": "书面告知书由本人签收",
            }


def write_corpus(out: Path, entries: int, records: int) -> Plan:
    """Write the content folder ``out`` (its ``data/``); the plan it followed."""
    plan = Plan.of(entries, records)
    corpus = Corpus(plan)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_table(data / "regions.csv", corpus.region_rows())
    write_table(data / "organisations.csv", corpus.organisation_rows())
    write_table(data / "volunteers.csv", corpus.volunteer_rows())
    write_table(data / "service_records.csv", corpus.record_rows())
    write_table(data / "honours.csv", corpus.honour_rows())
    write_table(data / "penalties.csv", corpus.penalty_rows())
    write_table(data / "events.csv", corpus.event_rows())
    return plan


def rename_one(source: Path, out: Path, k: int = 0) -> str:
    """A copy of the content folder ``source`` with organisation ``k`` renamed: the other tables
    linked, ``organisations.csv`` rewritten row by row. The new name."""
    (out / "data").mkdir(parents=True, exist_ok=True)
    new_name = ""
    for table in (source / "data").iterdir():
        target = out / "data" / table.name
        if table.name != "organisations.csv":
            target.symlink_to(table.resolve())
            continue
        with (
            table.open(encoding="utf-8", newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            reader = csv.DictReader(src)
            writer = csv.DictWriter(dst, fieldnames=list(reader.fieldnames or []))
            writer.writeheader()
            for n, row in enumerate(reader):
                if n == k:
                    row["name"] = new_name = f"{row['name']}（更名）"
                writer.writerow(row)
    return new_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, required=True, help="public entries")
    parser.add_argument("--records", type=int, required=True, help="service records")
    parser.add_argument("--out", type=Path, required=True, help="the content folder")
    args = parser.parse_args()
    plan = write_corpus(args.out, args.entries, args.records)
    print(json.dumps(asdict(plan)))


if __name__ == "__main__":
    main()
