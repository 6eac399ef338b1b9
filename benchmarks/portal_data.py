"""Synthetic data for ``benchmarks/portal.py``: the store, the search index, queries, sessions.

Invented names, checksum-valid ID numbers and USCCs; the store filled straight through the
sqlite3 module; the register search documents; varied ``/api/search`` queries; volunteer
accounts with a live session each.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.builders import id_number, uscc_code  # synthetic, checksum-valid numbers

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
