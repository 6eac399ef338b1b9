"""Benchmark the portal with wrk on loopback: the self-query page and ``/api/search``.

    .venv/bin/python benchmarks/portal.py [--volunteers 1000000] [--records-per-volunteer 10]
        [--search-docs 50000] [--connections 8 32 64] [--workdir /tmp/volcredit-bench]

Issue 4's goal: at least 1,000 requests/s with a p99 of at most 100 ms on 2 cores, on a store of
10^6 volunteers and 10^7 service records.

1. The store: the schema from ``open_store``, then rows straight through the sqlite3 module
   (``INSERT ... SELECT`` over a recursive CTE; the loader would take hours at this size).
   Invented names, checksum-valid invented ID numbers and USCCs, 100 organisations, ten service
   records per volunteer, a training for every fifth volunteer and an honour for every 200th.
   Kept in ``--workdir`` and reused while its counts match.
2. The register search index: ``--search-docs`` organisation and honour documents written with
   ``generator.search_index.write_index`` into ``<workdir>/site/search-index`` (reused likewise).
3. ``--accounts`` volunteer accounts for random volunteers and a live session for each.
4. ``volcredit serve --workers 2`` on a free loopback port, then wrk (``benchmarks/portal_wrk.lua``
   rotates through the session cookies and through varied queries) against ``/healthz`` (the
   ceiling of the server stack itself), ``/me`` and ``/api/search``: requests/s, p50, p99, the
   server's CPU time per request, and the workers' peak memory.
5. If an endpoint misses the goal (or with ``--profile always``): one request at a time in this
   process, the time of each query behind ``/me`` and a cProfile of whole requests by package.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.portal_data import (  # noqa: E402
    disk_size,
    fill_store,
    index_count,
    make_sessions,
    register_docs,
    search_path,
    search_queries,
    table_counts,
    volunteer_no,
)
from benchmarks.portal_profile import profile, search_query_times  # noqa: E402

GOAL_RPS = 1_000
GOAL_P99_MS = 100.0
LUA = Path(__file__).resolve().parent / "portal_wrk.lua"


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``volcredit serve`` in its own process group, with its worker processes."""

    def __init__(
        self, workdir: Path, url: str, site: Path, workers: int, nodelay: bool = False
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            VOLCREDIT_INSECURE_COOKIES="1",
            VOLCREDIT_SECRET_KEY=secrets.token_urlsafe(32),
            VOLCREDIT_OUTBOX=str(workdir / "outbox"),
        )
        if nodelay:
            program = [sys.executable, str(Path(__file__).resolve().parent / "portal_serve.py")]
        else:
            program = [str(Path(sys.executable).parent / "volcredit")]
        self.command = [
            *program,
            "serve",
            "--db",
            url,
            "--site",
            str(site),
            "--workers",
            str(workers),
            "--port",
            str(self.port),
        ]
        self.log = (workdir / "server.log").open("w")
        self.proc = subprocess.Popen(
            self.command,
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers = workers

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the portal exited ({self.proc.returncode}); see server.log")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    up = [r for r in self.roles().values() if r.startswith("worker")]
                    if r.status == 200 and len(up) == self.workers:
                        time.sleep(2)  # the last worker may still be starting to listen
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("the portal did not answer /healthz in time")

    def pids(self) -> list[int]:
        """The serve process and every process below it."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in task.read_text().split())
        return found

    def roles(self) -> dict[int, str]:
        """Each process by role: the serve process, uvicorn's workers, multiprocessing's helper."""
        out, n = {}, 0
        for pid in self.pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if pid == self.proc.pid:
                out[pid] = "serve process"
            elif b"resource_tracker" in cmdline:
                out[pid] = "resource tracker"
            else:
                n += 1
                out[pid] = f"worker {n}"
        return out

    def cpu_by_worker(self) -> dict[str, float]:
        """CPU seconds (user and system) so far, per process role."""
        out = {}
        for pid, role in self.roles().items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[role] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def peak_rss_mib(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) per process role."""
        out = {}
        for pid, role in self.roles().items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if m:
                out[role] = int(m.group(1)) / 1024
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def fetch(url: str, cookie: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, ""


# --- wrk ------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(base: str, requests_file: Path, connections: int, seconds: int) -> dict[str, Any]:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        base,
        "--",
        str(requests_file),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = {"command": shlex.join(command), "output": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else 0
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        result[f"p{pct}"] = float(value) * UNITS[unit]
    m = re.search(r"responses other than 200: (\d+)", out)
    result["bad"] = int(m.group(1)) if m else -1
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = sum(int(g) for g in m.groups()) if m else 0
    return result


# --- main ---------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return (
        f"{os.cpu_count()} cores ({model}), {int(mem) / 1024 / 1024:.0f} GiB RAM, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )


def ensure_store(args: argparse.Namespace, db: Path) -> tuple[int, int]:
    per = args.records_per_volunteer
    want = (args.volunteers, args.volunteers * per)
    have = table_counts(db)
    if have == want:
        print(f"store: reusing {db} ({want[0]:,} volunteers, {want[1]:,} service records)")
    else:
        if have is not None:
            print(f"store: {db} holds {have}, not {want}: filling again")
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
        print(f"store: filling {db} (indexes {args.indexes} the fill)", flush=True)
        phases = fill_store(db, args.volunteers, per, args.organisations, args.indexes)
        rows = want[0] + want[1]
        print(
            "store: filled in "
            + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
            + f" ({rows:,} volunteers and service records, {rows / phases['total']:,.0f} rows/s)"
        )
    print(f"store: {disk_size(db) / 2**30:.2f} GiB on disk")
    return want


def ensure_index(site: Path, docs: int) -> None:
    if index_count(site) == docs:
        print(f"search index: reusing {site}/search-index ({docs:,} documents)")
    else:
        from generator.search_index import write_index

        print(f"search index: writing {docs:,} documents", flush=True)
        t = time.perf_counter()
        write_index(site, register_docs(docs), seed="portal-benchmark")
        took = time.perf_counter() - t
        print(f"search index: written in {took:.1f} s ({docs / took:,.0f} documents/s)")
    size = sum(p.stat().st_size for p in (site / "search-index").iterdir())
    print(f"search index: {size / 2**20:.1f} MiB on disk")


def check_pages(server: Server, token: str, query: str) -> None:
    status, body = fetch(server.base + "/me", f"volcredit={token}")
    if status != 200 or "服务记录" not in body:
        raise SystemExit(f"/me answered {status} for a live session; see server.log")
    status, body = fetch(server.base + query)
    if status != 200 or '"total"' not in body:
        raise SystemExit(f"/api/search answered {status}")


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_test(
    server: Server, files: dict[str, Path], connections: list[int], seconds: int
) -> list[tuple[str, int, dict[str, Any]]]:
    results = []
    for endpoint, requests_file in files.items():
        run_wrk(server.base, requests_file, max(connections[0], 2), 5)  # warm-up
        for c in connections:
            cpu0, busy0 = server.cpu_by_worker(), machine_busy_seconds()
            wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = run_wrk(server.base, requests_file, c, seconds)
            wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu1, busy1 = server.cpu_by_worker(), machine_busy_seconds()
            used = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
            cpu = sum(used.values())
            workers = [v for k, v in sorted(used.items()) if k.startswith("worker")]
            r["split"] = "/".join(f"{v / max(sum(workers), 1e-9):.0%}" for v in workers)
            r["server_cpu_ms"] = cpu / max(r["requests"], 1) * 1000
            r["server_cores"] = cpu / seconds
            r["wrk_cores"] = (
                wrk1.ru_utime + wrk1.ru_stime - wrk0.ru_utime - wrk0.ru_stime
            ) / seconds
            # Anything else busy on the machine meanwhile (it takes cores from the portal).
            r["other_cores"] = max((busy1 - busy0 - cpu) / seconds - r["wrk_cores"], 0.0)
            results.append((endpoint, c, r))
            print(
                f"  {endpoint:<12} c={c:<3} {r['rps']:>9,.0f} req/s  "
                f"p50 {r.get('p50', 0):.1f} ms  p99 {r.get('p99', 0):.1f} ms",
                flush=True,
            )
    return results


def report(results: list[tuple[str, int, dict[str, Any]]], peaks: dict[str, float]) -> list[str]:
    """Print the table; the endpoints that miss the goal."""
    print(
        f"{'endpoint':<12} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'non-200':>8} {'errors':>6} {'srv CPU ms/req':>14} {'srv cores':>9} "
        f"{'worker split':>12} {'wrk cores':>9} {'other cores':>11}"
    )
    for endpoint, c, r in results:
        print(
            f"{endpoint:<12} {c:>5} {r['rps']:>9,.0f} {r.get('p50', 0):>8.1f} "
            f"{r.get('p90', 0):>8.1f} {r.get('p99', 0):>8.1f} {r['bad']:>8} {r['errors']:>6} "
            f"{r['server_cpu_ms']:>14.2f} {r['server_cores']:>9.2f} {r['split']:>12} "
            f"{r['wrk_cores']:>9.2f} {r['other_cores']:>11.2f}"
        )
    print("peak RSS (VmHWM): " + ", ".join(f"{k} {v:.0f} MiB" for k, v in peaks.items()))
    missed = []
    for endpoint in ("/me", "/api/search"):
        rows = [r for e, _, r in results if e == endpoint]
        if not rows:
            continue
        miss = any(r["rps"] < GOAL_RPS or r.get("p99", 1e9) > GOAL_P99_MS for r in rows)
        if miss:
            missed.append(endpoint)
        print(
            f"goal (>= {GOAL_RPS:,} req/s and p99 <= {GOAL_P99_MS:.0f} ms at every concurrency): "
            f"{endpoint} {'misses' if miss else 'meets'} it"
        )
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--records-per-volunteer", type=int, default=10)
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument(
        "--search-docs", type=int, default=50_000, help="about two minutes of whoosh indexing"
    )
    parser.add_argument("--accounts", type=int, default=1_000, help="sessions /me rotates through")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/volcredit-bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument(
        "--indexes",
        choices=["after", "before"],
        default="after",
        help="build the filled tables' indexes after the fill (default) or keep them during it",
    )
    parser.add_argument(
        "--tcp-nodelay",
        action="store_true",
        help="serve through benchmarks/portal_serve.py: TCP_NODELAY on (uvicorn issue #3149)",
    )
    parser.add_argument(
        "--endpoints",
        nargs="*",
        choices=["healthz", "me", "search"],
        default=["healthz", "me", "search"],
        help="what wrk runs against (none: no server, only the profile if asked)",
    )
    parser.add_argument("--profile", choices=["auto", "always", "never"], default="auto")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"portal-{args.volunteers}x{args.records_per_volunteer}.sqlite3"
    url = f"sqlite:///{db}"
    site = workdir / f"site-{args.search_docs}"
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {machine()}")
    ensure_store(args, db)
    ensure_index(site, args.search_docs)

    tokens = make_sessions(url, args.volunteers, args.accounts)
    picks = random.Random(7).sample(range(args.volunteers), len(tokens))
    subjects = [volunteer_no(i) for i in picks]
    kinds_texts = search_queries(args.search_docs)
    queries = [search_path(text) for _, text in kinds_texts]
    files = {
        "/healthz": workdir / "portal_healthz.txt",
        "/me": workdir / "portal_me.txt",
        "/api/search": workdir / "portal_search.txt",
    }
    files["/healthz"].write_text("/healthz\n")
    files["/me"].write_text("".join(f"/me\tvolcredit={t}\n" for t in tokens))
    files["/api/search"].write_text("".join(q + "\n" for q in queries))
    print(f"sessions: {len(tokens):,} volunteer accounts, a live session each")

    files = {e: f for e, f in files.items() if e.strip("/").split("/")[-1] in args.endpoints}
    missed = run_server(args, workdir, url, site, files, tokens[0], queries[0]) if files else []
    if args.profile == "always" or (args.profile == "auto" and missed):
        profile(url, site, workdir, tokens, subjects, queries)
        search_query_times(site, kinds_texts[:80])


def run_server(
    args: argparse.Namespace,
    workdir: Path,
    url: str,
    site: Path,
    files: dict[str, Path],
    token: str,
    query: str,
) -> list[str]:
    """Start the portal, run wrk against ``files``' endpoints, stop it; print the figures and
    return the endpoints that miss the goal."""
    server = Server(workdir, url, site, args.workers, args.tcp_nodelay)
    try:
        server.wait_ready()
        print(f"server: {shlex.join(server.command)}")
        check_pages(server, token, query)
        print(f"wrk: -t2, {args.duration} s per run, connections {args.connections}", flush=True)
        results = load_test(server, files, args.connections, args.duration)
        peaks = server.peak_rss_mib()
    finally:
        server.stop()
    (workdir / "wrk-output.txt").write_text(
        "\n".join(f"$ {r['command']}\n{r['output']}" for _, _, r in results)
    )
    print(
        f"\nstore: {args.volunteers:,} volunteers, "
        f"{args.volunteers * args.records_per_volunteer:,} service records; search index: "
        f"{args.search_docs:,} documents; {args.workers} workers"
        f"{', TCP_NODELAY forced on' if args.tcp_nodelay else ''}; "
        f"every wrk output in {workdir}/wrk-output.txt"
    )
    return report(results, peaks)


if __name__ == "__main__":
    main()
