"""Benchmark ``volcredit build`` and compare with plain mkdocs-material on the same entries.

    .venv/bin/python benchmarks/build.py [--sizes 10000 100000] [--mkdocs-subset 5000]

For each size N: a synthetic store of N identified organisations (invented names, checksum-valid
USCCs) in 110 regions, with N/4 organisation honours and 200 bad-info cases, loaded through the
real loader; then a full build, reporting seconds per phase (the register pages, the whoosh search
index, the leak gate, the signed manifest) and the build process's peak memory. Then, on a subset
of ``--mkdocs-subset`` organisations, the same entry pages built as plain mkdocs-material Markdown
pages (kept out of ``nav``, the fast case) and the ratio of the two.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import organisations, write_table  # noqa: E402
from tests.builders import uscc_code  # noqa: E402 - synthetic, checksum-valid codes

COUNTIES = [f"4301{c:02d}" for c in range(2, 12)] + [f"4302{c:02d}" for c in range(2, 12)]
CITIES = ["430100", "430200"]


def write_corpus(folder: Path, n: int) -> None:
    data = folder / "data"
    data.mkdir(parents=True)
    with (data / "regions.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "parent", "level", "population"])
        w.writerow(["430000", "湖南省", "", "province", 66040000])
        for city in CITIES:
            w.writerow([city, f"示例市{city}", "430000", "city", 5000000])
        for county in COUNTIES:
            w.writerow([county, f"示例县{county}", county[:4] + "00", "county", 500000])
    codes = [org["uscc"] for org in organisations(COUNTIES, n, identified=True)]
    write_table(data / "organisations.csv", organisations(COUNTIES, n, identified=True))
    with (data / "honours.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "honour_id",
                "subject_kind",
                "subject",
                "title",
                "kind",
                "authority",
                "document_no",
                "awarded_on",
            ]
        )
        for i in range(n // 4):
            w.writerow(
                [
                    f"H{i:08d}",
                    "organisation",
                    codes[i * 4],
                    "优秀志愿服务组织",
                    "commendation",
                    "湖南省民政厅",
                    f"湘民发〔2025〕{i % 50}号",
                    f"2025-0{1 + i % 9}-10",
                ]
            )
    with (data / "penalties.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "case_id",
                "subject_kind",
                "subject",
                "category",
                "facts",
                "decision_no",
                "authority",
                "decided_on",
                "procedure",
                "severity",
            ]
        )
        for i in range(min(200, n)):
            w.writerow(
                [
                    f"P{i:06d}",
                    "organisation",
                    codes[i * 3 % n],
                    1 + i % 5,
                    "以志愿服务名义收取费用",
                    f"罚〔2026〕{i}号",
                    "示例民政局",
                    "2026-03-02",
                    "general",
                    "general",
                ]
            )
    with (data / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ref", "event", "date", "note"])
        for i in range(min(200, n)):
            w.writerow([f"P{i:06d}", "notice_served", "2026-03-04", ""])


def build_in_child(db: str, out: Path, key: Path) -> dict[str, float]:
    """The real build in a fresh process; its phase timings and peak RSS."""
    code = (
        "import json, resource, sys; from datetime import date; from pathlib import Path\n"
        "from generator.build import build_site; from volcredit.settings import Settings\n"
        "from volcredit.store.engine import open_store\n"
        f"r = build_site(open_store({db!r}), Path({str(out)!r}), date(2026, 11, 21),"
        f" Settings(signing_key={str(key)!r}))\n"
        "assert r.ok, r.leaks\n"
        "r.seconds['pages'] = r.pages; r.seconds['files'] = r.files\n"
        "r.seconds['peak_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(r.seconds))\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["total"] = time.perf_counter() - t0
    return result


def plain_mkdocs(tmp: Path, n: int) -> float:
    """The same organisation pages as plain mkdocs-material Markdown pages, out of nav."""
    docs = tmp / "docs"
    (docs / "organisations").mkdir(parents=True)
    (docs / "index.md").write_text("# 首页\n", encoding="utf-8")
    for i in range(n):
        region = COUNTIES[i % len(COUNTIES)]
        code = uscc_code(region, i + 1)
        (docs / "organisations" / f"{code}.md").write_text(
            f"# 示例县{region}第{i}志愿者协会\n\n| 项目 | 内容 |\n|---|---|\n"
            f"| 统一社会信用代码 | {code} |\n| 登记管理机关 | 示例县{region}民政局 |\n"
            f"| 认定日期 | 2022-03-15 |\n\n## 表彰与荣誉\n\n暂无。\n",
            encoding="utf-8",
        )
    (tmp / "mkdocs.yml").write_text(
        "site_name: bench\ntheme:\n  name: material\n  language: zh\n  font: false\n"
        "nav:\n  - 首页: index.md\nnot_in_nav: |\n  /organisations/\n",
        encoding="utf-8",
    )
    t0 = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "-q"],
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--mkdocs-subset", type=int, default=5_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    columns = ["editorial", "registers", "downloads", "search_index", "leak_gate", "manifest"]
    print(
        f"{'entries':>8} {'pages':>7} "
        + " ".join(f"{c:>12}" for c in columns)
        + f" {'total s':>8} {'peak MiB':>9}"
    )
    for n in [*args.sizes, args.mkdocs_subset]:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            write_corpus(tmp / "content", n)
            db = f"sqlite:///{tmp / 'bench.sqlite3'}"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "volcredit",
                    "load",
                    str(tmp / "content"),
                    "--db",
                    db,
                    "--today",
                    "2026-11-21",
                ],
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            r = build_in_child(db, tmp / "site", tmp / "k.key")
            print(
                f"{n:>8} {int(r['pages']):>7} "
                + " ".join(f"{r.get(c, 0.0):>12.1f}" for c in columns)
                + f" {r['total']:>8.1f} {r['peak_mib']:>9.0f}"
            )
            if n == args.mkdocs_subset:
                ours = r["total"]
                theirs = plain_mkdocs(tmp / "mkdocs", n)
                print(
                    f"plain mkdocs-material, {n} entry pages out of nav: {theirs:.1f} s; "
                    f"volcredit full build of the same entries: {ours:.1f} s "
                    f"(ratio {theirs / ours:.1f}x)"
                )
    print(
        f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)"
    )


if __name__ == "__main__":
    main()
