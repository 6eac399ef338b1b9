"""Benchmark ``volcredit load``: service records per second and peak memory, at two sizes.

    .venv/bin/python benchmarks/load.py [--rows 1000000] [--db sqlite]

Writes a synthetic content folder (streamed; invented people and numbers) with ``--rows`` service
records (and a tenth as many volunteers), then loads it in a fresh process and reports wall time,
rows per second and the process's peak resident memory. It does the same at a quarter of the
size: memory that stays flat while the rows grow fourfold shows the load streams.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import organisations, write_table  # noqa: E402
from tests.builders import id_number  # noqa: E402 - synthetic, checksum-valid numbers

REGION = "430102"
ORGS = 100


def write_corpus(folder: Path, rows: int) -> None:
    data = folder / "data"
    data.mkdir(parents=True)
    volunteers = max(rows // 10, 1)
    (data / "regions.csv").write_text(
        "code,name,parent,level,population\n430000,湖南省,,province,66040000\n"
        "430100,长沙市,430000,city,10510000\n430102,芙蓉区,430100,county,540000\n",
        encoding="utf-8",
    )
    orgs = [org["uscc"] for org in organisations([REGION], ORGS, identified=False)]
    write_table(data / "organisations.csv", organisations([REGION], ORGS, identified=False))
    born = date(1970, 1, 1)
    with (data / "volunteers.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["volunteer_no", "name", "id_type", "id_number", "region", "registered_on"])
        for i in range(volunteers):
            birth = born + timedelta(days=i % 12000)
            w.writerow(
                [
                    f"V{i:08d}",
                    "示例人",
                    "resident_id",
                    id_number(REGION, birth, i % 1000),
                    REGION,
                    "2021-01-01",
                ]
            )
    start = date(2024, 1, 1)
    with (data / "service_records.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "record_id",
                "volunteer_no",
                "organisation",
                "project",
                "date",
                "hours",
                "punctuality",
                "attitude",
                "skill",
                "recorded_on",
                "content",
            ]
        )
        for i in range(rows):
            day = start + timedelta(days=i // volunteers)
            w.writerow(
                [
                    f"R{i:09d}",
                    f"V{i % volunteers:08d}",
                    orgs[i % ORGS],
                    "社区服务",
                    day.isoformat(),
                    "2.5",
                    5,
                    4,
                    5,
                    (day + timedelta(days=3)).isoformat(),
                    "陪伴老人、整理图书",
                ]
            )


def measure(folder: Path, db_url: str) -> tuple[float, int]:
    """Run ``volcredit load`` in a fresh child process; return seconds and its peak RSS in KiB."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), db_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - t0, int(out.split()[-1])


def child(folder: str, db_url: str) -> None:
    """In the child: the real CLI load, then this process's own peak RSS."""
    from volcredit.cli import main as volcredit

    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        code = volcredit(["load", folder, "--db", db_url, "--today", "2026-11-21"])
        sys.stdout = stdout
    if code:
        raise SystemExit(code)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'service records':>16} {'seconds':>8} {'rows/s':>9} {'peak RSS MiB':>13}")
    for rows in (args.rows // 4, args.rows):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "content"
            write_corpus(folder, rows)
            url = f"sqlite:///{tmp}/bench.sqlite3" if args.db == "sqlite" else args.db
            seconds, peak_kib = measure(folder, url)
        print(f"{rows:>16,} {seconds:>8.1f} {rows / seconds:>9,.0f} {peak_kib / 1024:>13.0f}")


if __name__ == "__main__":
    main()
