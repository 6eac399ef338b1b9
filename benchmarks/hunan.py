"""Benchmark the organisation commands (HN-1d announcements, HN-2c/d spot checks) nationally.

    .venv/bin/python benchmarks/hunan.py [--sizes 100000] [--records-per-org 10]
        [--profile STEP ...] [--keep DIR]

For each size N: a synthetic national store (31 provinces, about 330 cities and 3,000 counties
with invented, plausible populations; invented names, checksum-valid USCCs and ID numbers) with
N organisations (about 70% identified, some of them since removed; 12% registered with a city,
3% with a province), 2N volunteers, ``--records-per-org`` x N service records over 2025-2026
(busy organisations weigh more), N/50 complaints in 2026 and some imported findings, streamed to
CSV and loaded through the real CLI. Then, in a fresh process, with the real code called as the
CLI (or the staff portal) calls it, inside ``store.write()``/``store.read()``, it times: recording
identification decisions for half of the organisations still waiting for one (N/200 or so, a write
each, as ``volcredit identify``), publishing every region's 2026 announcement, the coverage
figures, recording the 2026 spot-check draw (and the CLI's re-listing of it), 50 organisations'
findings (8 items each, a write per organisation, as the staff checklist form), the city reports
and writing them, and ``volcredit check`` (consumed fully; it re-derives every published
announcement, which is also timed alone). Each row gives wall and CPU seconds (CPU time is less
disturbed by other load on the machine) and the process's peak resident memory after the step.

``--profile STEP ...`` runs those steps under cProfile and prints their top functions (the
seconds then include the profiler's overhead); ``--keep DIR`` keeps the loaded store in DIR and
reuses it on the next run (each run works on a copy, as the steps write to it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.portal_data import (  # noqa: E402
    ADJECTIVES,
    COMMUNITIES,
    COUNTY_CODES,
    DOMAINS,
    PROJECTS,
    person_name,
)
from benchmarks.synthetic import write_table  # noqa: E402
from tests.builders import id_number, uscc_code  # noqa: E402 - synthetic, checksum-valid numbers

TODAY = date(2026, 11, 21)
YEAR = 2026
ANNOUNCED_ON = date(2026, 6, 20)
DRAWN_ON = date(2026, 7, 15)
DECIDED_ON = date(2026, 3, 16)
SEED = "seed"
# The provinces' real two-digit prefixes; the four municipalities have counties right under them.
_PREFIXES = (
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
)
PROVINCES = tuple(_PREFIXES.split())
MUNICIPALITIES = {"11", "12", "31", "50"}
KEYWORD_TYPES = ("志愿者协会", "志愿服务队", "志愿服务中心", "志愿者联合会", "义工联合会")
OTHER_TYPES = ("公益服务社", "社会工作服务中心", "邻里互助会", "公益发展中心")
HOURS = ("1", "1.5", "2", "2.5", "3", "4")

Region = tuple[str, str, str | None, str, int]  # code, name, parent, level, population


# --- the content ----------------------------------------------------------------------------


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def national_regions(rng: random.Random) -> list[Region]:
    """31 provinces, ~330 cities, ~3,000 counties; a parent's population is its children's sum."""
    out: list[Region] = []
    for p in PROVINCES:
        cities: list[Region] = []
        counties: list[Region] = []
        if p in MUNICIPALITIES:
            parents = [(f"{p}0000", None)]
        else:
            parents = [(f"{p}{c:02d}00", f"{p}0000") for c in range(1, rng.randint(8, 16) + 1)]
        for city, province in parents:
            own: list[Region] = []
            for k in range(
                1, (rng.randint(12, 20) if province is None else rng.randint(5, 13)) + 1
            ):
                code = f"{p}01{k:02d}" if province is None else f"{city[:4]}{k:02d}"
                pop = int(min(max(rng.lognormvariate(math.log(380_000), 0.6), 20_000), 3_000_000))
                own.append((code, f"示例县{code}", city, "county", pop))
            counties += own
            if province is not None:
                cities.append((city, f"示例市{city}", province, "city", sum(r[4] for r in own)))
        people = sum(r[4] for r in (cities or counties))
        out += [(f"{p}0000", f"示例省{p}", None, "province", people), *cities, *counties]
    return out


class Corpus:
    """The organisations as generated: what the later tables refer to."""

    def __init__(self) -> None:
        self.usccs: list[str] = []
        self.weights: list[float] = []  # activity weight (0: no service records)
        self.pending: list[str] = []  # keyword name + charter, not identified: HN-1a candidates


def _registry(rng: random.Random, regions: list[Region], n: int) -> list[Region]:
    """Where each of ``n`` organisations is registered: 85% county, 12% city, 3% province,
    weighted by population with a local factor so some regions fall short of the target."""
    by_level: dict[str, list[Region]] = {"county": [], "city": [], "province": []}
    for r in regions:
        by_level[r[3]].append(r)
    picks: dict[str, list[Region]] = {}
    for level, share in (("county", 0.85), ("city", 0.12), ("province", 0.03)):
        rows = by_level[level]
        weights = [r[4] * rng.lognormvariate(0, 0.7) for r in rows]
        picks[level] = rng.choices(rows, weights=weights, k=max(1, round(n * share)))
    flat = [r for level in ("county", "city", "province") for r in picks[level]]
    rng.shuffle(flat)
    return flat[:n] + rng.choices(flat, k=max(0, n - len(flat)))


def organisations(rng: random.Random, regions: list[Region], n: int, corpus: Corpus) -> Iterator:
    """``n`` organisations; fills ``corpus`` as it goes."""
    for i, (region, rname, *_rest) in enumerate(_registry(rng, regions, n)):
        u = rng.random()
        identified = u < 0.70
        keyword = identified or u < 0.71 or rng.random() < 0.1
        kind_of = KEYWORD_TYPES if keyword else OTHER_TYPES
        name = (
            f"{rname}{rng.choice(COMMUNITIES)}{rng.choice(ADJECTIVES)}"
            f"{rng.choice(DOMAINS)}{rng.choice(kind_of)}"
        )
        registered = _day(rng, date(2008, 1, 1), date(2018, 12, 31))
        identified_on = _day(rng, date(2019, 1, 1), date(2026, 5, 31)) if identified else None
        removed = None
        if identified_on and rng.random() < 0.04:
            removed = _day(rng, identified_on + timedelta(days=1), date(2026, 10, 31))
        charter = keyword and removed is None and (identified or rng.random() < 0.5)
        uscc = uscc_code(region, i + 1)
        corpus.usccs.append(uscc)
        corpus.weights.append(rng.lognormvariate(0, 1.2) if rng.random() < 0.65 else 0.0)
        if keyword and charter and not identified:
            corpus.pending.append(uscc)
        yield {
            "uscc": uscc,
            "name": name,
            "kind": "social_group" if keyword else "social_service_agency",
            "legal_representative": person_name(i),
            "registration_authority": f"{rname}民政局",
            "region": region,
            "registered_on": registered.isoformat(),
            "charter_volunteer_purpose": "true" if charter else "false",
            "identified_on": identified_on,
            "identification_basis": (
                ("name_keyword" if rng.random() < 0.9 else "charter_verified")
                if identified
                else None
            ),
            "identification_removed_on": removed,
        }


def volunteers(rng: random.Random, counties: list[str], n: int) -> Iterator[dict[str, Any]]:
    """``n`` adults; every ID number unique (real Changsha area codes: stdnum checks them)."""
    born = date(1960, 1, 1)
    areas = len(COUNTY_CODES)
    for i in range(n):
        birth = born + timedelta(days=(i // areas) % 15_000)
        yield {
            "volunteer_no": f"V{i:08d}",
            "name": person_name(i),
            "id_type": "resident_id",
            "id_number": id_number(COUNTY_CODES[i % areas], birth, i // (areas * 15_000)),
            "region": rng.choice(counties),
            "registered_on": _day(rng, date(2015, 1, 1), date(2024, 12, 31)).isoformat(),
        }


def service_records(
    rng: random.Random, corpus: Corpus, n_volunteers: int, n: int
) -> Iterator[dict[str, Any]]:
    """``n`` records, 30% in 2025 and 70% in 2026; busy organisations draw more records and
    more distinct volunteers; 3% entered late, some elements missing, 1% excluded."""
    index = {u: k for k, u in enumerate(corpus.usccs)}
    cum: list[float] = []
    total = 0.0
    for w in corpus.weights:
        total += w
        cum.append(total)
    done = 0
    while done < n:
        batch = rng.choices(corpus.usccs, cum_weights=cum, k=min(50_000, n - done))
        for org in batch:
            k = index[org]
            pool = 10 + int(corpus.weights[k] * 20)
            volunteer = (k * 7_919 + rng.randrange(pool)) % n_volunteers
            if rng.random() < 0.3:
                day = _day(rng, date(2025, 1, 1), date(2025, 12, 31))
            else:
                day = _day(rng, date(2026, 1, 1), date(2026, 11, 10))
            lag = rng.randint(16, 45) if rng.random() < 0.03 else rng.randint(0, 6)
            project, place, content = PROJECTS[done % len(PROJECTS)]
            score = None if rng.random() < 0.03 else rng.randint(3, 5)
            yield {
                "record_id": f"R{done:09d}",
                "volunteer_no": f"V{volunteer:08d}",
                "organisation": org,
                "project": project,
                "date": day.isoformat(),
                "place": place,
                "recipients": "社区居民",
                "content": content,
                "hours": rng.choice(HOURS),
                "punctuality": score,
                "attitude": score,
                "skill": score,
                "contact_person": None if rng.random() < 0.08 else person_name(k),
                "recorded_on": min(day + timedelta(days=lag), TODAY - timedelta(days=1)),
                "excluded_kind": rng.randint(1, 4) if rng.random() < 0.01 else None,
            }
            done += 1


def complaints(rng: random.Random, corpus: Corpus, n: int) -> Iterator[dict[str, Any]]:
    """``n`` complaints about organisations, a third in 2025 and the rest in 2026."""
    for i in range(n):
        received = (
            _day(rng, date(2025, 1, 1), date(2025, 12, 31))
            if i % 3 == 0
            else _day(rng, date(2026, 1, 5), date(2026, 11, 15))
        )
        closed = received + timedelta(days=rng.randint(5, 40))
        yield {
            "complaint_id": f"C{i:07d}",
            "subject_kind": "organisation",
            "subject": rng.choice(corpus.usccs),
            "received_on": received.isoformat(),
            "summary": "以志愿服务名义收取费用" if i % 2 else "活动记录与实际不符",
            "outcome": "已核实处理" if closed < TODAY else None,
            "closed_on": closed.isoformat() if closed < TODAY else None,
        }


def findings(rng: random.Random, corpus: Corpus) -> Iterator[dict[str, Any]]:
    """Imported 2026 findings for 2% of the organisations, three items each."""
    for uscc in rng.sample(corpus.usccs, max(1, len(corpus.usccs) // 50)):
        for item in sorted(rng.sample(range(1, 9), 3)):
            fail = rng.random() < 0.15
            yield {
                "year": YEAR,
                "organisation": uscc,
                "item": item,
                "result": "fail" if fail else "pass",
                "note": "记录缺少服务对象" if fail else None,
            }


def write_corpus(folder: Path, n: int, per_org: int) -> tuple[list[Region], Corpus, int]:
    """The content folder for ``n`` organisations; returns the regions, the corpus and the
    number of service records."""
    data = folder / "data"
    data.mkdir(parents=True)
    rng = random.Random(20260620)
    regions = national_regions(rng)
    columns = ("code", "name", "parent", "level", "population")
    write_table(data / "regions.csv", (dict(zip(columns, r, strict=True)) for r in regions))
    corpus = Corpus()
    write_table(data / "organisations.csv", organisations(rng, regions, n, corpus))
    counties = [r[0] for r in regions if r[3] == "county"]
    n_volunteers = 2 * n
    write_table(data / "volunteers.csv", volunteers(rng, counties, n_volunteers))
    records = per_org * n
    write_table(data / "service_records.csv", service_records(rng, corpus, n_volunteers, records))
    write_table(data / "complaints.csv", complaints(rng, corpus, max(1, n // 50)))
    write_table(data / "spot_check_findings.csv", findings(rng, corpus))
    (folder / "pending.json").write_text(json.dumps(corpus.pending), encoding="utf-8")
    return regions, corpus, records


def load(folder: Path, db: Path) -> float:
    """The real ``volcredit load`` in a fresh process; its wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "volcredit",
            "load",
            str(folder),
            "--db",
            f"sqlite:///{db}",
            "--today",
            TODAY.isoformat(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"load failed ({proc.returncode})")
    return time.perf_counter() - t0


# --- the timed steps (in a fresh process) ---------------------------------------------------


class Steps:
    """Runs and times the steps, one row each: name, seconds, items, unit, peak MiB, note."""

    def __init__(self, profile: list[str]) -> None:
        self.profile = profile
        self.rows: list[list[Any]] = []

    def run(self, name: str, fn: Callable[[], Any], measure: Callable[[Any], tuple]) -> Any:
        prof = cProfile.Profile() if name in self.profile else None
        if prof:
            prof.enable()
        t0, cpu0 = time.perf_counter(), _cpu()
        result = fn()
        seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
        if prof:
            prof.disable()
            _print_profile(name, prof)
        items, unit, note = measure(result)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.rows.append([name, seconds, cpu, items, unit, peak, note])
        return result


def _cpu() -> float:
    """This process's CPU seconds (user + system): less disturbed by other load than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _print_profile(name: str, prof: cProfile.Profile) -> None:
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(order).print_stats(18)
        text = buf.getvalue()
        start = text.find("   ncalls")
        sys.stderr.write(f"\n--- cProfile of {name}, by {order} ---\n{text[start:]}")


def _identify(store: Any, pending: list[str]) -> int:
    from volcredit.identification import record

    for uscc in pending:  # as `volcredit identify` does: a write transaction each
        with store.write() as conn:
            record(conn, uscc, "identified_direct", DECIDED_ON, "bench", "cli", datetime.now())
    return len(pending)


def _record_findings(store: Any, usccs: list[str]) -> int:
    """As the staff checklist form does: one write transaction per organisation, 8 items."""
    from volcredit.spotcheck_findings import record_finding

    for uscc in usccs:
        with store.write() as conn:
            for item in range(1, 9):
                result = "fail" if item == 3 else "pass"
                note = "服务记录缺少服务对象" if result == "fail" else None
                day, now = date(2026, 8, 20), datetime.now()
                record_finding(conn, YEAR, uscc, item, result, note, day, "bench", "portal", now)
    return 8 * len(usccs)


def _check(store: Any) -> Counter[str]:
    from volcredit.checks import check_store
    from volcredit.settings import PublicityPeriods

    seen: Counter[str] = Counter()
    with store.read() as conn:
        for problem in check_store(conn, TODAY, PublicityPeriods()):
            seen[f"{problem.rule} {problem.severity.name.lower()}"] += 1
    return seen


def child(db: str, out_dir: str, pending_file: str, profile: list[str]) -> None:
    """In the child: every step with the real code, as the CLI calls it; rows as JSON."""
    from generator.spotcheck_report import write_reports
    from volcredit import announcements, spotcheck, spotcheck_findings
    from volcredit.store.engine import open_store

    store = open_store(db)
    steps = Steps(profile)
    pending = json.loads(Path(pending_file).read_text(encoding="utf-8"))
    steps.run("identify", lambda: _identify(store, pending[::2]), lambda n: (n, "decisions", ""))

    def publish() -> list[Any]:
        with store.write() as conn:
            return announcements.publish(conn, YEAR, ANNOUNCED_ON, "bench", "cli", datetime.now())

    steps.run(
        "publish",
        publish,
        lambda done: (len(done), "regions", f"{sum(p.organisations for p in done):,} listed"),
    )

    def coverage() -> list[Any]:
        with store.read() as conn:
            return announcements.coverage_by_region(conn, TODAY)

    steps.run(
        "coverage",
        coverage,
        lambda rows: (
            len(rows),
            "regions",
            f"{sum(1 for r in rows if r.coverage.shortfall):,} short of target",
        ),
    )

    def record_draw() -> list[Any]:
        with store.write() as conn:
            return spotcheck.record_draw(conn, YEAR, SEED, DRAWN_ON, "bench", "cli", datetime.now())

    drawn = steps.run(
        "record_draw",
        record_draw,
        lambda ds: (
            len(ds),
            "regions",
            f"{sum(d.candidates for d in ds):,} candidates, "
            f"{sum(len(d.drawn) for d in ds):,} drawn",
        ),
    )

    def relist() -> list[Any]:  # what `volcredit spotcheck --record` prints afterwards
        with store.read() as conn:
            return list(spotcheck.region_draws(conn, YEAR, SEED, DRAWN_ON))

    steps.run("region_draws", relist, lambda ds: (len(ds), "regions", "CLI output"))
    targets = [u for d in drawn for u, _ in d.drawn][
        :: max(1, sum(len(d.drawn) for d in drawn) // 50)
    ]
    steps.run(
        "record_finding",
        lambda: _record_findings(store, targets[:50]),
        lambda n: (n, "findings", f"{len(targets[:50])} organisations x 8 items, a write each"),
    )

    def reports() -> list[Any]:
        with store.read() as conn:
            return spotcheck_findings.reports(conn, YEAR)

    found = steps.run(
        "reports",
        reports,
        lambda rs: (
            len(rs),
            "units",
            f"{sum(len(s.organisations) for r in rs for s in r.regions):,} orgs",
        ),
    )
    steps.run(
        "write_reports",
        lambda: write_reports(found, Path(out_dir)),
        lambda paths: (len(paths), "files", f"{sum(p.stat().st_size for p in paths) >> 20} MiB"),
    )
    steps.run(
        "check_store",
        lambda: _check(store),
        lambda seen: (
            sum(seen.values()),
            "problems",
            ", ".join(f"{k} {v:,}" for k, v in sorted(seen.items())),
        ),
    )
    store.dispose()
    print(json.dumps(steps.rows, ensure_ascii=False))


STEP_LABELS = {
    "identify": "identification.record (CLI identify)",
    "publish": "announcements.publish",
    "coverage": "announcements.coverage_by_region",
    "record_draw": "spotcheck.record_draw",
    "region_draws": "  spotcheck.region_draws (re-list)",
    "record_finding": "spotcheck_findings.record_finding",
    "reports": "spotcheck_findings.reports",
    "write_reports": "spotcheck_report.write_reports",
    "check_store": "checks.check_store",
}


# --- the driver -----------------------------------------------------------------------------


def prepare(work: Path, n: int, per_org: int) -> tuple[Path, str, float, float]:
    """The loaded store for ``n`` (reused if ``work`` has it): path, summary, seconds to
    generate, seconds to load."""
    db, summary_file = work / f"store-{n}-{per_org}.sqlite3", work / f"store-{n}-{per_org}.txt"
    if db.exists() and summary_file.exists():
        return db, summary_file.read_text(encoding="utf-8"), 0.0, 0.0
    folder = work / f"content-{n}-{per_org}"
    t0 = time.perf_counter()
    regions, _, records = write_corpus(folder, n, per_org)
    generated = time.perf_counter() - t0
    loaded = load(folder, db)
    levels = Counter(r[3] for r in regions)
    summary = (
        f"{n:,} organisations, {levels['province']} provinces, {levels['city']} cities, "
        f"{levels['county']:,} counties, {2 * n:,} volunteers, {records:,} service records, "
        f"{max(1, n // 50):,} complaints"
    )
    summary_file.write_text(summary, encoding="utf-8")
    (folder / "pending.json").rename(work / f"pending-{n}-{per_org}.json")
    for f in sorted((folder / "data").iterdir()):
        f.unlink()
    (folder / "data").rmdir()
    folder.rmdir()
    return db, summary, generated, loaded


def measure(work: Path, db: Path, pending: Path, profile: list[str]) -> list[list[Any]]:
    """Copy the loaded store (the steps write to it) and run the steps in a fresh process."""
    copy = work / "run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with tempfile.TemporaryDirectory(dir=work, prefix="reports-") as out:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", f"sqlite:///{copy}", out, str(pending)]
            + (["--profile", *profile] if profile else []),
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_rows(rows: list[list[Any]]) -> None:
    print(
        f"{'step':<42} {'seconds':>8} {'CPU s':>7} {'items':>7} {'unit':<10} {'items/s':>8} "
        f"{'peak MiB':>8}  note"
    )
    for name, seconds, cpu, items, unit, peak, note in rows:
        rate = f"{items / seconds:,.0f}" if seconds > 0 and items else "-"
        print(
            f"{STEP_LABELS.get(name, name):<42} {seconds:>8.2f} {cpu:>7.2f} {items:>7,} "
            f"{unit:<10} {rate:>8} {peak:>8.0f}  {note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--records-per-org", type=int, default=10)
    parser.add_argument(
        "--profile", nargs="+", default=[], choices=tuple(STEP_LABELS), help="cProfile these steps"
    )
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the loaded stores here")
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "OUT", "PENDING"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.profile)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            db, summary, generated, loaded = prepare(work, n, args.records_per_org)
            pending = work / f"pending-{n}-{args.records_per_org}.json"
            print(f"\n{summary}")
            if loaded:
                print(f"generated in {generated:.1f} s, loaded (real CLI) in {loaded:.1f} s")
            else:
                print(f"reusing the loaded store in {work}")
            rows = measure(work, db, pending, args.profile)
            print_rows(rows)
    print(f"(peak RSS is the step process's, after each step; driver {_driver_mib()} MiB)")


def _driver_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


if __name__ == "__main__":
    main()
