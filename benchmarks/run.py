"""The scale benchmark (issue 9) in one run: ``make bench`` or

    .venv/bin/python benchmarks/run.py [--sizes 10000 100000 1000000] [--subset 5000]

For each size N (public entries; ten service records per entry, at most 10^7), on a synthetic
corpus from ``benchmarks/corpus.py``, every step in its own child process (wall time and peak
RSS from ``wait4``):

1. ``volcredit load`` into SQLite: rows/s.
2. A full ``build``: the pages (editorial, registers, downloads), the whoosh search index, the
   leak gate and signed manifest (``BuildResult.seconds``), and the whole build's wall time.
3. One organisation renamed: ``load`` again, then ``build`` again.
4. Public search p50/p95 over a fixed set of queries (whole organisation names, two-character
   person names, USCCs) on the whoosh backend; and, when PostgreSQL answers on 127.0.0.1:5432
   (database ``test``, a schema of its own, dropped afterwards), the same corpus loaded and built
   there with ``VOLCREDIT_SEARCH=postgresql`` and the same queries on the PostgreSQL backend.
5. The self-query page ``/me`` under wrk (2 portal workers, 1,000 sessions): req/s and p99.

Then, on a ``--subset``-entry corpus: volcredit's full build, and the same public entries as
Markdown pages built by plain mkdocs-material and by Hugo; the ratios. wrk and Hugo are installed
with apt-get when missing (as root), else their steps are skipped and say so. At the end: one
Markdown table with every figure, the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import peers  # noqa: E402
from benchmarks.corpus import TODAY, Corpus, Plan, rename_one  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    BIN,
    Step,
    ensure_tool,
    machine,
    measured,
    tool_version,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PER_ENTRY = 10
MAX_RECORDS = 10_000_000
QUERIES_PER_KIND = 100
ROWS: list[tuple[str, str, str, str, str]] = []  # the final table: entries, step, time, rate, mem


def row(entries: int, step: str, seconds: float | None, rate: str, mib: float | None) -> None:
    ROWS.append(
        (
            f"{entries:,}",
            step,
            "" if seconds is None else f"{seconds:,.1f} s",
            rate,
            "" if mib is None else f"{mib:,.0f}",
        )
    )
    print(f"  {step:<54} {ROWS[-1][2]:>9}  {rate:<44} {ROWS[-1][4]:>5} MiB", flush=True)


# --- the steps ------------------------------------------------------------------------------


def load(content: Path, db: str) -> tuple[Step, int]:
    step = measured(
        [str(BIN / "volcredit"), "load", str(content), "--db", db, "--today", TODAY.isoformat()]
    )
    m = re.search(r"已导入 (\d+) 行", step.stdout)
    if not m:
        raise SystemExit(f"load printed no row count:\n{step.stdout[-2000:]}")
    return step, int(m.group(1))


def build(db: str, out: Path, key: Path, search: str = "whoosh") -> tuple[Step, dict[str, float]]:
    step = measured([sys.executable, __file__, "--child-build", db, str(out), str(key), search])
    return step, json.loads(step.stdout.strip().splitlines()[-1])


def child_build(db: str, out: str, key: str, search: str) -> None:
    from generator.build import build_site
    from volcredit.settings import Settings
    from volcredit.store.engine import open_store

    store = open_store(db)
    r = build_site(store, Path(out), TODAY, Settings(signing_key=key, search=search))
    store.dispose()
    if not r.ok:
        raise SystemExit(f"the leak gate refused the build: {r.leaks[:5]}")
    counts = {"pages": r.pages, "files": r.files, "reused": r.reused, "scanned": r.scanned}
    print(json.dumps({**r.seconds, **counts}))


def queries(entries: int, records: int) -> list[tuple[str, str]]:
    """The fixed query set: ``(kind, text)``, the same for the same corpus."""
    import random

    from benchmarks.portal_data import person_name, register_name

    plan = Plan.of(entries, records)
    corpus, rng = Corpus(plan), random.Random(7)
    picks = rng.sample(range(plan.identified), min(QUERIES_PER_KIND, plan.identified))
    out = [("name", register_name(k)) for k in picks]
    short = {person_name((h * 7) % plan.volunteers) for h in range(plan.person_honours)}
    two = sorted(n for n in short if len(n) == 2)
    out += [("2-char name", n) for n in rng.sample(two, min(QUERIES_PER_KIND, len(two)))]
    picks = rng.sample(range(plan.identified), min(QUERIES_PER_KIND, plan.identified))
    return out + [("USCC", corpus.uscc(k)) for k in picks]


def child_search(backend: str, target: str, entries: int, records: int) -> None:
    from portal.search import PostgresSearch, WhooshSearch
    from volcredit.store.engine import open_store

    store = None
    if backend == "whoosh":
        engine: Any = WhooshSearch(Path(target))
    else:
        store = open_store(target)
        engine = PostgresSearch(store)
    qs = queries(entries, records)
    for _, text in qs[:: max(1, len(qs) // 20)]:  # warm-up: open the index, fill the caches
        engine.search(text)
    times, found = [], dict.fromkeys((k for k, _ in qs), 0)
    for kind, text in qs:
        t0 = time.perf_counter()
        result = engine.search(text)
        times.append((time.perf_counter() - t0) * 1000)
        found[kind] += result.total > 0
    engine.close()
    if store is not None:
        store.dispose()
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    total = {k: sum(1 for q, _ in qs if q == k) for k in found}
    print(
        json.dumps(
            {
                "p50": cuts[49],
                "p95": cuts[94],
                "n": len(times),
                "hits": ", ".join(f"{k} {found[k]}/{total[k]}" for k in found),
            }
        )
    )


def search(backend: str, target: str, entries: int, records: int) -> tuple[Step, dict[str, Any]]:
    step = measured(
        [
            sys.executable,
            __file__,
            "--child-search",
            backend,
            target,
            str(entries),
            str(records),
        ]
    )
    return step, json.loads(step.stdout.strip().splitlines()[-1])


def report_build(n: int, label: str, step: Step, r: dict[str, float]) -> None:
    pages = r.get("editorial", 0) + r.get("registers", 0) + r.get("downloads", 0)
    row(
        n,
        f"{label}: pages (editorial+registers+downloads)",
        pages,
        f"{r['pages']:,.0f} pages",
        None,
    )
    what = "public_search table (no whoosh)" if label == "PostgreSQL" else "whoosh index"
    row(n, f"{label}: search index", r.get("search_index", 0.0), what, None)
    row(n, f"{label}: leak gate + signed manifest", r["leak_gate"] + r["manifest"], "", None)
    row(n, f"{label}: full build, wall", step.seconds, f"{r['files']:,.0f} files", step.peak_mib)


def report_rebuild(n: int, label: str, step: Step, r: dict[str, float]) -> None:
    """A build after a small change: its wall time, and how much it could take as it was."""
    kept = f"{r['reused']:,.0f} of {r['pages']:,.0f} pages reused, {r['scanned']:,.0f} scanned"
    row(n, f"{label}: build again, wall", step.seconds, kept, step.peak_mib)
    phases = ", ".join(
        f"{name} {r[name]:.1f}"
        for name in ("editorial", "registers", "downloads", "search_index", "leak_gate", "manifest")
        if name in r
    )
    print(f"    (phases, s: {phases})", flush=True)


def report_load(n: int, label: str, step: Step, rows: int) -> None:
    row(n, label, step.seconds, f"{rows / step.seconds:,.0f} rows/s ({rows:,} rows)", step.peak_mib)


# --- PostgreSQL and wrk ---------------------------------------------------------------------


def pg_admin() -> Any | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        print(f"PostgreSQL at {PG_URL}: not reachable ({str(exc).splitlines()[0]}); skipped")
        engine.dispose()
        return None
    return engine


def on_postgres(admin: Any, n: int, records: int, content: Path, work: Path, key: Path) -> None:
    from sqlalchemy import text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        step, rows = load(content, url)
        report_load(n, "PostgreSQL: load", step, rows)
        step, r = build(url, work / "site-pg", key, search="postgresql")
        report_build(n, "PostgreSQL", step, r)
        again = work / "content-renamed-pg"
        rename_one(content, again, k=1)
        step, rows = load(again, url)
        report_load(n, "PostgreSQL: another organisation renamed: load again", step, rows)
        step, r = build(url, work / "site-pg", key, search="postgresql")
        report_rebuild(n, "PostgreSQL: another organisation renamed", step, r)
        step, s = search("postgresql", url, n, records)
        rate = f"p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms"
        row(n, "search, PostgreSQL backend", None, rate, step.peak_mib)
        print(f"    ({s['n']} queries; with hits: {s['hits']})")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def self_query(n: int, db: str, site: Path, work: Path, plan: dict[str, int], args: Any) -> None:
    from benchmarks.portal import Server, check_pages, run_wrk
    from benchmarks.portal_data import make_sessions, search_path

    volunteers = plan["volunteers"]
    tokens = make_sessions(db, volunteers, min(1_000, volunteers))
    me = work / "wrk_me.txt"
    me.write_text("".join(f"/me\tvolcredit={t}\n" for t in tokens))
    server = Server(work, db, site, workers=2)
    try:
        server.wait_ready()
        check_pages(server, tokens[0], search_path(queries(n, plan["records"])[0][1]))
        run_wrk(server.base, me, args.connections, 3)  # warm-up
        r = run_wrk(server.base, me, args.connections, args.wrk_seconds)
        peaks = server.peak_rss_mib()
    finally:
        server.stop()
    rate = f"{r['rps']:,.0f} req/s, p99 {r.get('p99', 0):.1f} ms (c={args.connections})"
    if r["bad"] or r["errors"]:
        rate += f", {r['bad']} non-200, {r['errors']} errors"
    row(n, "self-query /me (wrk, 2 workers)", float(args.wrk_seconds), rate, max(peaks.values()))


# --- one size, and the subset ---------------------------------------------------------------


def records_for(n: int, args: Any) -> int:
    return args.records if args.records else min(n * PER_ENTRY, MAX_RECORDS)


def corpus(n: int, records: int, content: Path) -> tuple[Step, dict[str, int]]:
    step = measured(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "corpus.py"),
            "--entries",
            str(n),
            "--records",
            str(records),
            "--out",
            str(content),
        ]
    )
    return step, json.loads(step.stdout.strip().splitlines()[-1])


def one_size(n: int, work: Path, args: Any, tools: dict[str, Any]) -> None:
    from benchmarks.portal_data import index_count

    records = records_for(n, args)
    print(f"\n== {n:,} public entries, {records:,} service records ({work})", flush=True)
    content, db, key = work / "content", f"sqlite:///{work / 'store.sqlite3'}", work / "k.key"
    step, plan = corpus(n, records, content)
    row(
        n,
        "corpus written (CSV, streamed)",
        step.seconds,
        f"{plan['volunteers']:,} volunteers",
        step.peak_mib,
    )
    step, rows = load(content, db)
    report_load(n, "load (SQLite)", step, rows)
    step, r = build(db, work / "site", key)
    report_build(n, "build", step, r)
    docs = index_count(work / "site") or 0
    row(n, "public entries in the search index", None, f"{docs:,} documents", None)

    renamed = work / "content-renamed"
    name = rename_one(content, renamed)
    step, rows = load(renamed, db)
    report_load(n, "one organisation renamed: load again", step, rows)
    step, r = build(db, work / "site", key)
    report_rebuild(n, "one organisation renamed", step, r)
    if name not in (work / "site" / "downloads" / "organisations.csv").read_text(encoding="utf-8"):
        raise SystemExit(f"the rebuilt site does not show the new name {name}")

    step, s = search("whoosh", str(work / "site"), n, records)
    rate = f"p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms"
    row(n, "search, whoosh backend", None, rate, step.peak_mib)
    print(f"    ({s['n']} queries; with hits: {s['hits']})")

    if tools["pg"] is not None:
        on_postgres(tools["pg"], n, records, renamed, work, key)
    else:
        row(n, "PostgreSQL steps", None, "skipped: PostgreSQL not reachable", None)
    if tools["wrk"]:
        self_query(n, db, work / "site", work, plan, args)
    else:
        row(n, "self-query /me (wrk)", None, "skipped: wrk not installed", None)


def subset(n: int, work: Path, args: Any, tools: dict[str, Any]) -> None:
    records = records_for(n, args)
    print(f"\n== the same {n:,} entries: volcredit, mkdocs-material, Hugo ({work})", flush=True)
    content, db = work / "content", f"sqlite:///{work / 'store.sqlite3'}"
    corpus(n, records, content)
    load(content, db)
    ours, r = build(db, work / "site", work / "k.key")
    row(n, "volcredit full build, wall", ours.seconds, f"{r['pages']:,.0f} pages", ours.peak_mib)
    alone = r.get("editorial", 0) + r.get("registers", 0) + r.get("downloads", 0)
    row(n, "volcredit pages alone (editorial+registers+downloads)", alone, "", None)
    pages = list(peers.entry_pages(db, TODAY))
    theirs = peers.mkdocs_material(work / "mkdocs", pages)
    html = peers.count_html(work / "mkdocs" / "site")
    row(
        n,
        "plain mkdocs-material (entries out of nav)",
        theirs.seconds,
        f"{html:,} pages",
        theirs.peak_mib,
    )
    row(
        n,
        "volcredit vs mkdocs-material, full build",
        None,
        versus(ours.seconds, theirs.seconds),
        None,
    )
    row(n, "volcredit vs mkdocs-material, pages alone", None, versus(alone, theirs.seconds), None)
    if tools["hugo"]:
        hugo = peers.hugo(work / "hugo", pages, tools["hugo"])
        html = peers.count_html(work / "hugo" / "public")
        row(n, f"Hugo ({tools['hugo_version']})", hugo.seconds, f"{html:,} pages", hugo.peak_mib)
        row(n, "volcredit vs Hugo, full build", None, versus(ours.seconds, hugo.seconds), None)
        row(n, "volcredit vs Hugo, pages alone", None, versus(alone, hugo.seconds), None)
    else:
        row(n, "Hugo", None, "skipped: hugo not installed", None)


def versus(ours: float, theirs: float) -> str:
    """The ratio of the two wall times, in words."""
    if ours <= theirs:
        return f"volcredit {theirs / ours:.1f}x faster (their time / ours)"
    return f"volcredit {ours / theirs:.1f}x slower (our time / theirs)"


def table(info: dict[str, str], started: datetime, command: str) -> str:
    lines = [
        "| entries | step | time | throughput / latency | peak RSS MiB |",
        "|---:|---|---:|---|---:|",
        *(f"| {' | '.join(r)} |" for r in ROWS),
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python "
        f"{info['python']}, {info['tools']}; load average {info['load']} at the start, "
        f"{Path('/proc/loadavg').read_text().split()[0]} at the end (other work on the machine "
        f"shares its cores). Date: {started:%Y-%m-%d %H:%M}. Command: `{command}`.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--records", type=int, help=f"service records (default {PER_ENTRY}/entry)")
    parser.add_argument("--subset", type=int, default=5_000, help="entries for the comparison")
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-seconds", type=int, default=15)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child-build", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-search", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        child_build(*args.child_build)
        return
    if args.child_search:
        backend, target, entries, records = args.child_search
        child_search(backend, target, int(entries), int(records))
        return

    started, command = datetime.now(), " ".join([Path(sys.executable).name, *sys.argv])
    info = machine()
    info["load"] = Path("/proc/loadavg").read_text().split()[0]
    tools: dict[str, Any] = {"wrk": ensure_tool("wrk", "wrk"), "hugo": ensure_tool("hugo", "hugo")}
    tools["hugo_version"] = tool_version(["hugo", "version"]).split("+")[0] if tools["hugo"] else ""
    tools["pg"] = None if args.skip_postgres else pg_admin()
    info["tools"] = f"wrk {'yes' if tools['wrk'] else 'no'}, {tools['hugo_version'] or 'no Hugo'}"
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM")
    base = args.workdir or Path(tempfile.mkdtemp(prefix="volcredit-bench-"))
    try:
        for n in args.sizes:
            work = base / f"n{n}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            one_size(n, work, args, tools)
            if args.workdir is None:
                shutil.rmtree(work, ignore_errors=True)
        if args.subset:
            work = base / f"subset{args.subset}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            subset(args.subset, work, args, tools)
    finally:
        if tools["pg"] is not None:
            tools["pg"].dispose()
        if args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\n## Benchmark, {date.today().isoformat()}\n")
    print(table(info, started, command))


if __name__ == "__main__":
    main()
