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
import asyncio
import contextlib
import cProfile
import os
import pstats
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
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.builders import id_number, uscc_code  # noqa: E402 - synthetic, checksum-valid numbers

GOAL_RPS = 1_000
GOAL_P99_MS = 100.0
LUA = Path(__file__).resolve().parent / "portal_wrk.lua"
CHUNK = 50_000

# Real county codes (stdnum checks the area of an ID number); everything else is invented.
COUNTIES = {
    "430102": "芙蓉区",
    "430103": "天心区",
    "430104": "岳麓区",
    "430105": "开福区",
    "430111": "雨花区",
    "430112": "望城区",
    "430121": "长沙县",
    "430181": "浏阳市",
    "430182": "宁乡市",
}
COUNTY_CODES = list(COUNTIES)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂文华红玉兰英建国志海晓云春雪梅俊宇欣佳怡子晨浩然"
    "博思雨婷"
)


def words(text: str) -> list[str]:
    return text.split()


COMMUNITIES = words(
    "东塘 西湖 南门 北辰 朝阳 新河 望月 清水 丰泉 桂花 湘江 松雅 洪山 金盆 五里 火星 荷花 文昌 "
    "韭园 白沙 梅溪 麓谷 枫林 天顶 黎托 洞井 坪塘 星沙 榔梨 花明"
)
ADJECTIVES = words(
    "阳光 春晖 爱心 红枫 蓝天 彩虹 星火 暖阳 益行 同心 向日葵 微光 雷锋 青松 晨曦 善行 "
    "新绿 馨语 乐龄 同行 温馨 和美 燎原 明德"
)
DOMAINS = words(
    "助老 助残 环保 支教 应急救援 文明交通 邻里互助 青少年 医疗健康 文化 法律援助 心理关爱 "
    "禁毒 助学"
)
ORG_TYPES = words("志愿者协会 志愿服务队 志愿服务中心 公益服务社 社会工作服务中心 志愿者联合会")
PROJECTS = [
    ("社区助老服务", "社区活动中心", "陪伴老人、整理图书"),
    ("文明交通劝导", "五一大道路口", "引导行人遵守信号灯"),
    ("河道清洁行动", "湘江风光带", "清理河岸垃圾"),
    ("周末课业辅导", "社区图书室", "辅导小学生作业"),
    ("应急救护培训", "街道会议室", "心肺复苏演示与讲解"),
    ("助残康复陪护", "康复中心", "协助康复训练"),
]
REGION_ROWS = [
    ("430000", "湖南省", None, "province", 66040000),
    ("430100", "长沙市", "430000", "city", 10510000),
    *((code, name, "430100", "county", 500000) for code, name in COUNTIES.items()),
]


# --- the store ------------------------------------------------------------------------------


def person_name(i: int) -> str:
    """An invented two- or three-character name, the same for the same ``i``."""
    surname = SURNAMES[i % len(SURNAMES)]
    j = i // len(SURNAMES)
    first = GIVEN[(j * 7) % len(GIVEN)]
    if i % 3 == 0:
        return surname + first
    return surname + first + GIVEN[(j * 13 + 5) % len(GIVEN)]


def volunteer_no(i: int) -> str:
    return f"BV{i + 1:07d}"


def org_code(k: int) -> str:
    return uscc_code(COUNTY_CODES[k % len(COUNTY_CODES)], k + 1)


def volunteer_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """Volunteer rows: each (county, birth date, sequence) once, so every ID number is unique."""
    born = date(1958, 1, 1)
    days = 18_000  # born 1958 to 2007: a few are minors on some of their records' dates
    per_round = len(COUNTY_CODES) * days
    for i in range(n):
        region = COUNTY_CODES[i % len(COUNTY_CODES)]
        birth = born + timedelta(days=(i // len(COUNTY_CODES)) % days)
        seq = (i // per_round) * 2 + (i & 1)  # the ID number's 17th digit: odd for men
        yield (
            i + 1,
            volunteer_no(i),
            person_name(i),
            "resident_id",
            id_number(region, birth, seq),
            "male" if seq % 2 else "female",
            birth.isoformat(),
            region,
            f"长沙市{COUNTIES[region]}",
            "助老,环保" if i % 2 else "支教,文明交通",
            "急救" if i % 5 == 0 else None,
            f"139{i:08d}",
            (date(2018, 1, 1) + timedelta(days=i % 2500)).isoformat(),
            i + 2,
        )


def org_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for k in range(n):
        region = COUNTY_CODES[k % len(COUNTY_CODES)]
        name = register_name(k)
        yield (
            k + 1,
            org_code(k),
            name,
            "social_group",
            person_name(k * 31 + 7),
            f"{COUNTIES[region]}民政局",
            region,
            "2019-03-01",
            1,
            f"202{k % 5}-0{1 + k % 9}-15",
            "name_keyword",
            None,
            person_name(k * 17 + 3),
            f"0731{k:07d}",
            f"长沙市{COUNTIES[region]}示例路{k + 1}号",
            k + 2,
        )


SERVICE_SQL = """
INSERT INTO service_records (row_id, record_id, volunteer_no, organisation, project, date, place,
    recipients, content, hours, punctuality, attitude, skill, contact_person, recorded_on,
    excluded_kind, source_line, late_entry)
WITH RECURSIVE s(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM s WHERE i < :hi - 1)
SELECT i + 1, printf('SR%09d', i), printf('BV%07d', i / :per + 1), o.uscc, p.project,
       d.iso, p.place, '社区居民', p.content,
       50 + (i * 7 % 16) * 50, 3 + i % 3, 3 + (i / 3) % 3, 3 + (i / 7) % 3, '联系人',
       r.iso, CASE WHEN i % 53 = 0 THEN 1 + i % 4 END, i + 2, 0
FROM s
JOIN bench_orgs o ON o.k = (i / :per * 7 + (i % :per) * 13) % :orgs
JOIN bench_projects p ON p.k = (i / :per + i % :per) % :projects
JOIN bench_days d ON d.k = (i / :per * 37) % 400 + (i % :per) * 90 % 1000
JOIN bench_days r ON r.k = d.k + 3 + i % 9
"""

TRAINING_SQL = """
INSERT INTO trainings (row_id, volunteer_no, organisation, topic, content, date, place,
    class_hours, contact_person, source_line)
WITH RECURSIVE s(v) AS (SELECT 0 UNION ALL SELECT v + 5 FROM s WHERE v + 5 < :volunteers)
SELECT v / 5 + 1, printf('BV%07d', v + 1), o.uscc, '志愿服务通用培训', '志愿精神与服务礼仪',
       d.iso, '街道会议室', 200, '培训联络人', v / 5 + 2
FROM s JOIN bench_orgs o ON o.k = v % :orgs JOIN bench_days d ON d.k = v % 1000
"""

HONOUR_SQL = """
INSERT INTO honours (row_id, honour_id, subject_kind, subject, title, kind, authority,
    document_no, awarded_on, source_line)
WITH RECURSIVE s(v) AS (SELECT 0 UNION ALL SELECT v + 200 FROM s WHERE v + 200 < :volunteers)
SELECT v / 200 + 1, printf('HV%07d', v / 200 + 1), 'person', printf('BV%07d', v + 1),
       '优秀志愿者', 'commendation', '长沙市民政局', printf('长民发〔2025〕%d号', v % 50),
       d.iso, v / 200 + 2
FROM s JOIN bench_days d ON d.k = 600 + v % 300
"""


def table_counts(path: Path) -> tuple[int, int] | None:
    """(volunteers, service records) in the store at ``path``, or None if it is not usable."""
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            v = con.execute("SELECT count(*) FROM volunteers").fetchone()[0]
            r = con.execute("SELECT count(*) FROM service_records").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return v, r


def fill_store(path: Path, volunteers: int, per: int, orgs: int, indexes: str) -> dict[str, float]:
    """Write the store into ``path`` (via a ``.partial`` file renamed at the end); phase seconds."""
    from volcredit.store.engine import open_store

    partial = path.with_name(path.name + ".partial")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    open_store(f"sqlite:///{partial}").dispose()  # the schema, as the migrations define it
    con = sqlite3.connect(partial, isolation_level=None)
    # A crash mid-fill leaves only the .partial file, which the next run starts again.
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for the index builds
    con.execute("PRAGMA temp_store=MEMORY")
    filled = ("volunteers", "service_records", "trainings", "honours")
    deferred: list[str] = []
    if indexes == "after":
        deferred = [
            sql
            for name, sql in con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({','.join('?' * len(filled))})",
                filled,
            ).fetchall()
        ]
        for name in re.findall(r"INDEX (\w+) ON", " ".join(deferred)):
            con.execute(f"DROP INDEX {name}")
    con.execute("BEGIN")
    con.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?, ?, ?)", region_rows())
    con.executemany(f"INSERT INTO organisations VALUES ({','.join('?' * 16)})", org_rows(orgs))
    con.execute("CREATE TEMP TABLE bench_orgs (k INTEGER PRIMARY KEY, uscc TEXT)")
    con.executemany("INSERT INTO bench_orgs VALUES (?, ?)", ((k, org_code(k)) for k in range(orgs)))
    con.execute("CREATE TEMP TABLE bench_projects (k INTEGER PRIMARY KEY, project, place, content)")
    con.executemany("INSERT INTO bench_projects VALUES (?, ?, ?, ?)", enumerate_rows(PROJECTS))
    con.execute("CREATE TEMP TABLE bench_days (k INTEGER PRIMARY KEY, iso TEXT)")
    start = date(2022, 1, 1)
    con.executemany(
        "INSERT INTO bench_days VALUES (?, ?)",
        ((k, (start + timedelta(days=k)).isoformat()) for k in range(1_600)),
    )
    con.execute("COMMIT")
    seconds["setup"] = time.perf_counter() - t0

    t = time.perf_counter()
    rows = volunteer_rows(volunteers)
    while chunk := list(islice(rows, CHUNK)):
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO volunteers VALUES ({','.join('?' * 14)})", chunk)
        con.execute("COMMIT")
    seconds["volunteers"] = time.perf_counter() - t

    t = time.perf_counter()
    total = volunteers * per
    step = 1_000_000
    for lo in range(0, total, step):
        con.execute("BEGIN")
        con.execute(
            SERVICE_SQL,
            {
                "lo": lo,
                "hi": min(lo + step, total),
                "per": per,
                "orgs": orgs,
                "projects": len(PROJECTS),
            },
        )
        con.execute("COMMIT")
        done = min(lo + step, total)
        rate = done / (time.perf_counter() - t)
        print(f"  service records {done:>12,} of {total:,} ({rate:,.0f} rows/s)", flush=True)
    seconds["service_records"] = time.perf_counter() - t

    t = time.perf_counter()
    con.execute("BEGIN")
    con.execute(TRAINING_SQL, {"volunteers": volunteers, "orgs": orgs})
    con.execute(HONOUR_SQL, {"volunteers": volunteers})
    con.execute("COMMIT")
    seconds["trainings_honours"] = time.perf_counter() - t

    t = time.perf_counter()
    for sql in deferred:
        con.execute(sql)
    seconds["indexes_after"] = time.perf_counter() - t
    con.execute("PRAGMA journal_mode=WAL")  # as the store runs
    con.close()
    partial.rename(path)
    seconds["total"] = time.perf_counter() - t0
    return seconds


def region_rows() -> Iterator[tuple[Any, ...]]:
    for n, row in enumerate(REGION_ROWS):
        yield (n + 1, *row, n + 2)


def enumerate_rows(rows: list[tuple[str, ...]]) -> Iterator[tuple[Any, ...]]:
    for k, row in enumerate(rows):
        yield (k, *row)


def disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


# --- the register search index --------------------------------------------------------------

COMBOS = len(COUNTIES) * len(COMMUNITIES) * len(ADJECTIVES) * len(DOMAINS) * len(ORG_TYPES)


def register_name(k: int) -> str:
    """An invented organisation name; distinct for the first COMBOS values of ``k``."""
    j = (k * 7919) % COMBOS  # 7919 is prime and does not divide COMBOS: a permutation
    j, county = divmod(j, len(COUNTIES))
    j, community = divmod(j, len(COMMUNITIES))
    j, adjective = divmod(j, len(ADJECTIVES))
    org_type, domain = divmod(j, len(DOMAINS))
    name = (
        f"{COUNTIES[COUNTY_CODES[county]]}{COMMUNITIES[community]}社区"
        f"{ADJECTIVES[adjective]}{DOMAINS[domain]}{ORG_TYPES[org_type]}"
    )
    return name if k < COMBOS else f"{name}第{k // COMBOS + 1}分会"


def register_docs(n: int) -> Iterator[Any]:
    """``n`` public register documents: four organisations for every honour."""
    from generator.search_index import SearchDoc

    honours = n // 5
    organisations = n - honours
    for k in range(organisations):
        region = COUNTY_CODES[k % len(COUNTY_CODES)]
        code, name = uscc_code(region, k + 1), register_name(k)
        yield SearchDoc(
            f"organisation:{code}",
            "organisation",
            name,
            name,
            code,
            f"湖南省长沙市{COUNTIES[region]}",
            f"organisations/{code}/",
            f"已认定，{COUNTIES[region]}民政局",
        )
    for h in range(honours):
        k = (h * 4) % organisations
        region = COUNTY_CODES[k % len(COUNTY_CODES)]
        code, name = uscc_code(region, k + 1), register_name(k)
        year = 2021 + h % 5
        yield SearchDoc(
            f"honour:HO{h:07d}",
            "honour",
            f"{'五星志愿服务组织' if h % 3 else '优秀志愿服务组织'}：{name}",
            name,
            code,
            f"湖南省长沙市{COUNTIES[region]}",
            f"honours/{year}/#HO{h:07d}",
            f"长沙市民政局 长民发〔{year}〕{h % 60 + 1}号 {year}-0{1 + h % 9}-10",
        )


def index_count(site: Path) -> int | None:
    from whoosh import index

    folder = site / "search-index"
    if not index.exists_in(str(folder)):
        return None
    ix = index.open_dir(str(folder))
    try:
        return int(ix.doc_count())
    finally:
        ix.close()


QUERY_KINDS = (
    "one word (阳光)",
    "one field (助老)",
    "two words run together (阳光助老)",
    "community (东塘社区)",
    "whole organisation name",
    "exact USCC",
    "two words with a space",
    "no match",
)


def search_queries(docs: int, n: int = 400) -> list[tuple[str, str]]:
    """Varied queries ``(kind, text)``: words, word pairs, places, whole names, USCCs, misses."""
    rng = random.Random(20261121)
    organisations = docs - docs // 5
    out = []
    for q in range(n):
        kind = q % len(QUERY_KINDS)
        if kind == 0:
            text = rng.choice(ADJECTIVES)
        elif kind == 1:
            text = rng.choice(DOMAINS)
        elif kind == 2:
            text = rng.choice(ADJECTIVES) + rng.choice(DOMAINS)
        elif kind == 3:
            text = rng.choice(COMMUNITIES) + "社区"
        elif kind == 4:
            text = register_name(rng.randrange(organisations))
        elif kind == 5:
            k = rng.randrange(organisations)
            text = uscc_code(COUNTY_CODES[k % len(COUNTY_CODES)], k + 1)
        elif kind == 6:
            text = f"{rng.choice(ADJECTIVES)} {rng.choice(DOMAINS)}"
        else:
            text = rng.choice(["量子计算研究所", "不存在的组织", "ZZZ", "星际航行"])
        out.append((QUERY_KINDS[kind], text))
    return out


def search_path(text: str) -> str:
    return f"/api/search?q={quote(text)}"


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


# --- accounts and sessions ------------------------------------------------------------------


def make_sessions(url: str, volunteers: int, accounts_n: int) -> list[str]:
    """A volunteer account for ``accounts_n`` random volunteers (kept between runs) and a fresh
    session for each; the session tokens."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from portal import accounts, sessions
    from portal.passwords import Passwords, cheap_hasher
    from volcredit.store.engine import open_store
    from volcredit.store.schema import content_tables

    v = content_tables["volunteers"]
    picks = random.Random(7).sample(range(volunteers), min(accounts_n, volunteers))
    hashed = Passwords(cheap_hasher()).hash("benchmark-password-not-secret")
    now = datetime.now(UTC).replace(tzinfo=None)
    store = open_store(url)
    tokens = []
    try:
        with store.write() as conn:
            for i in picks:
                number = volunteer_no(i)
                account = accounts.by_login(conn, number)
                if account is None:
                    name = conn.execute(
                        select(v.c.name).where(v.c.volunteer_no == number)
                    ).scalar_one()
                    account = accounts.create(
                        conn,
                        kind="volunteer",
                        login=number,
                        subject=number,
                        display_name=name,
                        password_hash=hashed,
                        now=now,
                    )
                tokens.append(sessions.start(conn, account.account_id, "full", now))
    finally:
        store.dispose()
    return tokens


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


# --- profile --------------------------------------------------------------------------------


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


WRAPPERS = ("portal/app.py", "portal/security.py", "benchmarks/portal.py")


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
