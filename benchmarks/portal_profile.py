"""The profile section of ``benchmarks/portal.py``: requests one at a time, in process.

The time of each store call behind ``/me`` (and of the same SQL through sqlite3 directly), a
cProfile of whole requests summed by package, and the time of each kind of search query.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.portal_data import QUERY_KINDS

ROOT = Path(__file__).resolve().parent.parent


async def asgi_get(app: Any, target: str, cookie: str | None) -> int:
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def package_of(filename: str, function: str) -> str:
    if filename == "~":
        if "sqlite3" in function:
            return "sqlite3 (C)"
        return "builtins"
    for name in (
        "sqlalchemy",
        "jinja2",
        "starlette",
        "whoosh",
        "jieba",
        "anyio",
        "markupsafe",
        "asyncio",
    ):
        if f"/{name}/" in filename:
            return name
    if "site_templates" in filename or filename.endswith(".html"):
        return "templates (jinja2)"
    for name in ("portal", "volcredit"):
        if f"{ROOT}/{name}/" in filename:
            return name
    return "other"


def profile_requests(
    app: Any, targets: list[tuple[str, str | None]], label: str, n: int
) -> tuple[float, dict[str, float], pstats.Stats]:
    """``n`` requests one at a time, after a warm-up; mean ms and seconds per package."""

    async def run(items: list[tuple[str, str | None]]) -> None:
        for target, cookie in items:
            status = await asgi_get(app, target, cookie)
            if status != 200:
                raise SystemExit(f"{label}: {target} answered {status}")

    items = [targets[i % len(targets)] for i in range(n)]
    asyncio.run(run(items[:20]))
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    asyncio.run(run(items))
    profiler.disable()
    mean_ms = (time.perf_counter() - t0) / n * 1000
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = package_of(filename, function)
        by_package[key] = by_package.get(key, 0.0) + tottime
    return mean_ms, by_package, stats


def me_query_times(url: str, subjects: list[str], tokens: list[str]) -> list[tuple[str, float]]:
    """Mean ms of each store call behind one /me request (no profiler running)."""
    from portal import accounts, sessions
    from portal.clock import SystemClock, today_in_beijing
    from volcredit import held
    from volcredit.settings import PublicityPeriods
    from volcredit.store.engine import open_store

    store = open_store(url)
    now = SystemClock().now()
    today = today_in_beijing(now)
    periods = PublicityPeriods()
    totals: dict[str, float] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        t = time.perf_counter()
        result = fn(*args)
        if isinstance(result, Iterator):
            result = list(result)
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - t
        return result

    try:
        for _ in range(2):  # the first round warms caches; the second is measured
            totals.clear()
            for key, token in zip(subjects, tokens, strict=True):
                t = time.perf_counter()
                with store.read() as conn:
                    totals["transaction (connect, BEGIN)"] = (
                        totals.get("transaction (connect, BEGIN)", 0.0) + time.perf_counter() - t
                    )
                    session, _ = timed("sessions.resolve", sessions.resolve, conn, token, now)
                    timed("accounts.by_id", accounts.by_id, conn, session.account_id)
                    subject = timed("held.find_subject", held.find_subject, conn, "person", key)
                    timed("held.basic_info", held.basic_info, conn, subject)
                    timed("held.hours_summary", held.hours_summary, conn, key)
                    timed("held.service_records (50)", held.service_records, conn, key, 0, 50)
                    timed("held.trainings", held.trainings, conn, key)
                    timed("held.honours", held.honours, conn, subject, today)
                    timed("held.complaints", held.complaints, conn, subject)
                    timed("held.credit_cases", held.credit_cases, conn, subject, today, periods)
                    timed("held.other_info", held.other_info, conn, subject)
    finally:
        store.dispose()
    return [(name, s / len(subjects) * 1000) for name, s in totals.items()]


RAW_ME_SQL = (
    "SELECT * FROM sessions WHERE token_hash = :token",
    "SELECT * FROM accounts WHERE account_id = :account",
    "SELECT name FROM volunteers WHERE volunteer_no = :no",
    "SELECT * FROM volunteers WHERE volunteer_no = :no",
    "SELECT count(*), count(excluded_kind), coalesce(sum(hours), 0), "
    "coalesce(sum(hours) FILTER (WHERE excluded_kind IS NULL), 0) "
    "FROM service_records WHERE volunteer_no = :no",
    "SELECT sr.*, o.name FROM service_records sr LEFT JOIN organisations o "
    "ON o.uscc = sr.organisation WHERE sr.volunteer_no = :no "
    "ORDER BY sr.date DESC, sr.record_id DESC LIMIT 50 OFFSET 0",
    "SELECT * FROM trainings WHERE volunteer_no = :no ORDER BY date DESC, row_id",
    "SELECT birth_date FROM volunteers WHERE volunteer_no = :no",
    "SELECT h.*, e.event, e.date, e.note FROM honours h LEFT JOIN history e "
    "ON e.ref = h.honour_id WHERE h.honour_id IS NOT NULL AND h.subject_kind = 'person' "
    "AND h.subject = :no ORDER BY h.honour_id, e.seq",
    "SELECT * FROM complaints WHERE subject_kind = 'person' AND subject = :no "
    "ORDER BY received_on DESC, row_id",
    "SELECT date, kind FROM workdays",
    "SELECT p.*, e.event, e.date, e.note FROM penalties p LEFT JOIN history e "
    "ON e.ref = p.case_id WHERE p.case_id IS NOT NULL AND p.subject_kind = 'person' "
    "AND p.subject = :no ORDER BY p.case_id, e.seq",
    "SELECT * FROM other_info WHERE subject_kind = 'person' AND subject = :no "
    "ORDER BY provided_on DESC, row_id",
)


def raw_me_ms(db: Path, subjects: list[str], tokens: list[str]) -> float:
    """Mean ms of the same queries as one /me request, through the sqlite3 module directly (one
    read transaction, statements cached by sqlite3): the floor the store itself sets."""
    from portal.sessions import token_hash

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    try:
        for _ in range(2):  # the first round warms caches; the second is measured
            t = time.perf_counter()
            for key, token in zip(subjects, tokens, strict=True):
                con.execute("BEGIN")
                row = con.execute(RAW_ME_SQL[0], {"token": token_hash(token)}).fetchone()
                params = {"token": token_hash(token), "account": row[1], "no": key}
                for sql in RAW_ME_SQL[1:]:
                    con.execute(sql, params).fetchall()
                con.execute("COMMIT")
            took = time.perf_counter() - t
    finally:
        con.close()
    return took / len(subjects) * 1000


WRAPPERS = ("portal/app.py", "portal/security.py", "benchmarks/portal_profile.py")


def print_top(stats: pstats.Stats, n: int) -> None:
    """The functions with the most own time, then the project's own functions by cumulative
    time (the middleware chain left out)."""
    entries = stats.stats.items()  # type: ignore[attr-defined]

    def where(func: tuple[str, int, str]) -> str:
        filename, line, name = func
        if filename == "~":
            return name
        short = filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        return f"{short}:{line} {name}"

    own = sorted(entries, key=lambda kv: -kv[1][2])[:12]
    print("  most own time:")
    for func, (_, calls, tottime, _, _) in own:
        print(f"    {tottime / n * 1000:>7.3f} ms/req {calls / n:>7.1f} calls/req  {where(func)}")
    ours = [
        kv
        for kv in entries
        if kv[0][0].startswith((f"{ROOT}/portal/", f"{ROOT}/volcredit/"))
        and not kv[0][0].endswith(WRAPPERS)
    ]
    print("  project functions by cumulative time:")
    for func, (_, calls, _, cumtime, _) in sorted(ours, key=lambda kv: -kv[1][3])[:12]:
        print(f"    {cumtime / n * 1000:>7.3f} ms/req {calls / n:>7.1f} calls/req  {where(func)}")


def profile(
    url: str, site: Path, workdir: Path, tokens: list[str], subjects: list[str], queries: list[str]
) -> None:
    from portal.app import create_app
    from portal.passwords import Passwords, cheap_hasher
    from volcredit.settings import Settings
    from volcredit.store.engine import open_store

    print("\nprofile: one request at a time, in this process (no HTTP server, no wrk)")
    print(f"{'/me: store call':<32} {'mean ms':>8}")
    parts = me_query_times(url, subjects[:300], tokens[:300])
    for name, ms in parts:
        print(f"{name:<32} {ms:>8.2f}")
    print(f"{'sum of store calls':<32} {sum(ms for _, ms in parts):>8.2f}")
    db = Path(url.removeprefix("sqlite:///"))
    raw = raw_me_ms(db, subjects[:300], tokens[:300])
    print(f"{'the same SQL through sqlite3':<32} {raw:>8.2f}  (one transaction, no SQLAlchemy)")

    settings = Settings(
        db_url=url,
        site_dir=str(site),
        secret_key="benchmark",
        outbox=str(workdir / "outbox"),
        secure_cookies=False,
    )
    store = open_store(url)
    app = create_app(settings, store=store, passwords=Passwords(cheap_hasher()))
    runs: list[tuple[str, list[tuple[str, str | None]], int]] = [
        ("healthz", [("/healthz", None)], 2000),
        ("me", [("/me", f"volcredit={t}") for t in tokens], 500),
        ("search", [(q, None) for q in queries], min(len(queries), 48)),
    ]
    for label, targets, n in runs:
        t0 = time.perf_counter()
        asyncio.run(plain_requests(app, targets, n))
        plain_ms = (time.perf_counter() - t0) / n * 1000
        mean_ms, packages, stats = profile_requests(app, targets, label, n)
        total = sum(packages.values()) or 1.0
        dump = workdir / f"profile-{label}.pstats"
        stats.dump_stats(str(dump))
        print(
            f"\n{label}: {plain_ms:.2f} ms per request without the profiler, {mean_ms:.2f} ms "
            f"with it ({n} requests, {dump}); own time by package:"
        )
        for key, secs in sorted(packages.items(), key=lambda kv: -kv[1]):
            if secs / total >= 0.01:
                print(f"  {key:<22} {secs / total:>6.1%}")
        print_top(stats, n)
    store.dispose()


async def plain_requests(app: Any, targets: list[tuple[str, str | None]], n: int) -> None:
    for i in range(n):
        target, cookie = targets[i % len(targets)]
        await asgi_get(app, target, cookie)


def search_query_times(site: Path, queries: list[tuple[str, str]]) -> None:
    """Mean ms and hits per query kind, straight through the portal's search backend."""
    from portal.search import WhooshSearch

    search = WhooshSearch(site)
    search.search("阳光")  # opens the index
    times: dict[str, list[float]] = {}
    totals: dict[str, list[int]] = {}
    for kind, text in queries:
        t = time.perf_counter()
        found = search.search(text)
        times.setdefault(kind, []).append(time.perf_counter() - t)
        totals.setdefault(kind, []).append(found.total)
    print(
        f"{'/api/search: query kind':<36} {'queries':>7} {'mean ms':>8} {'max ms':>8} {'hits':>8}"
    )
    for kind in QUERY_KINDS:
        if kind in times:
            ts, hits = times[kind], totals[kind]
            print(
                f"{kind:<36} {len(ts):>7} {sum(ts) / len(ts) * 1000:>8.1f} "
                f"{max(ts) * 1000:>8.1f} {sum(hits) / len(hits):>8,.0f}"
            )
