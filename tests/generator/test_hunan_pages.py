"""The Hunan pages on the real built site: yearly identification announcements as recorded
(HN-1d, PUB-2), the coverage figure (HN-1d), the published spot-check draw (HN-2c) without
anything never public (PUB-1), and the staff report files (HN-2c, HN-2d)."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from sqlalchemy import update

from generator.build import _private_values, build_site
from generator.spotcheck_report import write_reports
from tests.builders import load
from tests.generator.test_build import _broken_links
from volcredit import announcements, identification, spotcheck, spotcheck_findings
from volcredit import publication as pub
from volcredit.rules.checklist import ITEMS
from volcredit.settings import Settings
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
NEXT_YEAR = date(2027, 7, 1)
NOW = datetime(2027, 7, 1, 9, 0, 0)
SEED = "2026-湖南-01"
DRAWN_ON = date(2026, 8, 15)
REMOVED, REMOVED_ON = "51110101MJ01735256", date(2026, 8, 3)  # 东城区, after the 2026 list
LATE, LATE_ON = "52430302MJD6185323", date(2026, 7, 10)  # 雨湖区, identified after it
COMPLAINED = ("52430104MJD4052625", "52430302MJD58204XK")  # never identified; complaints
CANARY_NOTE = "金丝雀抽查说明QX7401"
CANARY_COMPLAINT = "金丝雀投诉摘要ZP3302"
CANARY_RECORDED = "金丝雀检查记录RM5120"
ATOM = "{http://www.w3.org/2005/Atom}"


def prepare(store: Store) -> None:
    """The sample content plus announcements, decisions, a draw, findings and canaries."""
    assert load(store, CONTENT, TODAY).ok
    f, c = content_tables["spot_check_findings"], content_tables["complaints"]
    with store.write() as conn:
        conn.execute(update(f).where(f.c.note.is_not(None)).values(note=CANARY_NOTE))
        conn.execute(update(c).where(c.c.subject == COMPLAINED[0]).values(summary=CANARY_COMPLAINT))
        announcements.publish(conn, 2025, date(2025, 3, 1), "test", "cli", NOW)
        announcements.publish(conn, 2026, date(2026, 6, 20), "test", "cli", NOW)
        identification.record(
            conn,
            REMOVED,
            "identification_removed",
            REMOVED_ON,
            "test",
            "portal",
            NOW,
            charter_volunteer_purpose=False,
        )
        identification.record(conn, LATE, "identified_direct", LATE_ON, "test", "portal", NOW)
        spotcheck.record_draw(conn, 2026, SEED, DRAWN_ON, "test", "cli", NOW)
        spotcheck_findings.record_finding(
            conn,
            2026,
            COMPLAINED[0],
            3,
            "fail",
            CANARY_RECORDED,
            date(2026, 9, 1),
            "t",
            "portal",
            NOW,
        )
        announcements.publish(conn, 2027, date(2027, 6, 20), "test", "cli", NOW)


def build(store: Store, tmp: Path, today: date, name: str) -> Path:
    result = build_site(store, tmp / name, today, Settings(signing_key=str(tmp / "site.key")))
    assert result.ok, result.leaks
    return (tmp / name).resolve()


@pytest.fixture(scope="module")
def hunan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path, Path]:
    tmp = tmp_path_factory.mktemp("hunan")
    store = open_store(f"sqlite:///{tmp / 'store.sqlite3'}")
    prepare(store)
    return store, build(store, tmp, TODAY, "site"), build(store, tmp, NEXT_YEAR, "next")


def soup(site: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((site / rel / "index.html").read_text(encoding="utf-8"), "html.parser")


def listed(page: BeautifulSoup, table: str = ".vc-list table") -> list[list[str]]:
    return [
        [td.get_text(strip=True) for td in tr.select("td")] for tr in page.select(f"{table} tr")
    ][1:]


def ann(site: Path, year: int, region: str) -> BeautifulSoup:
    return soup(site, f"announcements/identification/{year}/{region}")


def test_hn1d_a_page_only_for_each_recorded_announcement(hunan: tuple[Store, Path, Path]) -> None:
    """HN-1d: pages exist for the announcements recorded by the build date, and no others."""
    store, site, later = hunan
    with store.read() as conn:
        expected = {f"{y}/{r}" for y, r in announcements.published(conn, TODAY)}
        regions = {r.code for r in announcements.announcing_regions(pub.regions(conn))}
    root = site / "announcements/identification"
    pages = {p.parent.relative_to(root).as_posix() for p in root.rglob("index.html")}
    assert pages == expected == {f"{y}/{r}" for y in (2025, 2026) for r in regions}
    assert not (root / "2024").exists()  # never recorded
    assert (later / "announcements/identification/2027/110101/index.html").is_file()
    title = ann(site, 2026, "430100").select_one("h1")
    assert title is not None and title.text == "长沙市2026年志愿服务组织认定公告"


def test_hn1d_published_list_is_the_regions_own_on_the_publication_date(
    hunan: tuple[Store, Path, Path],
) -> None:
    """HN-1d, PUB-2: the 2026 list is what the region identified on 2026-06-20: a removal or an
    identification after that date leaves it unchanged; an empty list says so."""
    _, site, _ = hunan
    page = ann(site, 2026, "110101")
    assert listed(page) == [
        [
            "1",
            "北京市东城区晓光志愿服务协会",
            REMOVED,
            "北京市东城区民政局",
            "2024-03-15",
            "名称和章程直接认定",
            "",
        ]
    ]
    meta = page.select_one("dl.vc-meta")
    assert meta is not None and "2026-06-20" in meta.text and "县级" in meta.text
    digest = hashlib.sha256(REMOVED.encode()).hexdigest()[:16]
    check = page.select_one(".vc-digest")
    assert check is not None and "名单校验值" in check.text and digest in check.text
    empty = ann(site, 2026, "430302")
    assert empty.select_one(".vc-list table") is None and LATE not in empty.text
    assert "本级暂无经认定的志愿服务组织" in empty.text
    city = ann(site, 2026, "430100")  # only the city's own, not its counties' (HN-1d)
    assert [row[2] for row in listed(city)] == ["53430100MJD0091713"]
    css = (site / "assets/stylesheets/volcredit.css").read_text(encoding="utf-8")
    assert "@media print" in css and "size: A4" in css


def test_hn1d_new_and_removed_since_the_previous_announcement(
    hunan: tuple[Store, Path, Path],
) -> None:
    """HN-1d, HN-1c: organisations identified since the previous announcement are marked 新认定;
    removals since then are listed with their dates."""
    _, site, _ = hunan
    marks = {row[2]: row[6] for row in listed(ann(site, 2026, "500106"))}
    assert marks == {"52500106MJP277418J": "新认定", "52500106MJP26318X5": ""}
    haidian = ann(site, 2026, "110108")
    assert [row[2] for row in listed(haidian)] == ["52110108MJ0315976C"]
    assert listed(haidian, ".vc-removed table") == [
        ["北京市海淀区知新文化交流中心", "52110108MJ0362043X", "2024-06-18", "2026-05-20"]
    ]
    assert "2025-03-01" in haidian.text  # the previous announcement's date
    before = ann(site, 2025, "110108")  # still identified on 2025-03-01
    assert [row[2] for row in listed(before)] == ["52110108MJ0315976C", "52110108MJ0362043X"]


def test_hn1c_later_removal_shows_on_removals_page_and_next_years_announcement(
    hunan: tuple[Store, Path, Path],
) -> None:
    """HN-1c, HN-1d: a removal after the 2026 announcement is announced on the removals page
    at once and on the 2027 announcement; a later identification appears in 2027 as new."""
    _, site, later = hunan
    row = soup(site, "announcements/removals").select_one(f"tr[id='{REMOVED}']")
    assert row is not None and REMOVED_ON.isoformat() in row.text
    page = ann(later, 2027, "110101")
    assert listed(page) == [] and "本级暂无经认定的志愿服务组织" in page.text
    assert [r[1:] for r in listed(page, ".vc-removed table")] == [
        [REMOVED, "2024-03-15", REMOVED_ON.isoformat()]
    ]
    assert [(r[2], r[6]) for r in listed(ann(later, 2027, "430302"))] == [(LATE, "新认定")]
    assert [r[2] for r in listed(ann(later, 2026, "110101"))] == [REMOVED]  # unchanged


def test_hn1d_index_feed_and_sitemap(hunan: tuple[Store, Path, Path]) -> None:
    """HN-1d: the index lists announcements by year, newest first, and links the coverage and
    spot-check pages; the feed dates each by its publication; the sitemap lists the pages;
    every link resolves."""
    _, site, later = hunan
    index = soup(site, "announcements")
    years = [h.text for h in index.select("article h2") if "组织认定公告" in h.text]
    assert years == ["2026 年志愿服务组织认定公告", "2025 年志愿服务组织认定公告"]
    hrefs = [a["href"] for a in index.select("article a")]
    assert {"../coverage/", "../spotchecks/"} <= set(hrefs)
    assert "../announcements/identification/2026/110101/" in hrefs
    assert not any("/2027/" in h for h in hrefs)
    feed = ET.parse(site / "feed.xml").getroot()
    updated = {
        e.find(f"{ATOM}link").get("href", "").split("8000/", 1)[1]: e.findtext(f"{ATOM}updated")
        for e in feed.findall(f"{ATOM}entry")
    }
    assert updated["announcements/identification/2026/110101/"] == "2026-06-20T00:00:00+08:00"
    assert updated["spotchecks/2026/"] == "2026-08-15T00:00:00+08:00"
    assert _broken_links(site) == [] and _broken_links(later) == []
    locs = (site / "sitemaps/1.xml").read_text(encoding="utf-8")
    for rel in (
        "coverage/",
        "spotchecks/",
        "spotchecks/2026/",
        "announcements/identification/2025/430100/",
    ):
        assert f"http://127.0.0.1:8000/{rel}<" in locs


def expected_coverage(today: date) -> dict[str, tuple[int, int, str, int, int]]:
    """HN-1d computed from the sample YAML by hand: own, with the regions under it, per
    million (2 places, half up), needed (ceiling of 20 per million), shortfall."""
    regions = yaml.safe_load((CONTENT / "data/regions.yaml").read_text(encoding="utf-8"))
    orgs = yaml.safe_load((CONTENT / "data/organisations.yaml").read_text(encoding="utf-8"))
    parent = {str(r["code"]): r["parent"] and str(r["parent"]) for r in regions}
    own = dict.fromkeys(parent, 0)
    for o in orgs:
        start, end = o["identified_on"], o["identification_removed_on"]
        if o["uscc"] == LATE:
            start = LATE_ON
        if o["uscc"] == REMOVED:
            end = REMOVED_ON
        if start is not None and start <= today and (end is None or end > today):
            own[str(o["region"])] += 1
    out = {}
    for r in regions:
        code, population = str(r["code"]), r["population"]
        total = sum(n for c, n in own.items() if code in _chain(parent, c))
        per = (Decimal(total) * 1_000_000 / population).quantize(Decimal("0.01"), ROUND_HALF_UP)
        needed = -(-population * 20 // 1_000_000)
        out[code] = (own[code], total, f"{per}", needed, max(needed - total, 0))
    return out


def _chain(parent: dict[str, str | None], code: str) -> list[str]:
    chain: list[str] = []
    at: str | None = code
    while at is not None:
        chain.append(at)
        at = parent[at]
    return chain


def test_hn1d_coverage_page_matches_the_arithmetic(hunan: tuple[Store, Path, Path]) -> None:
    """HN-1d: every region's own and total identified organisations, per million residents,
    the number the target of 20 requires and the shortfall, as computed by hand."""
    _, site, _ = hunan
    page = soup(site, "coverage")
    rows = {
        tr["id"]: [c.get_text(strip=True) for c in tr.select("th, td")]
        for tr in page.select("tbody tr")
    }
    expected = expected_coverage(TODAY)
    assert list(rows) == sorted(expected)  # code order
    for code, (own, total, per, needed, short) in expected.items():
        assert rows[code][3:8] == [str(own), str(total), per, str(needed), str(short)], code
        assert rows[code][8] == ("达标" if short == 0 else "未达标")
    assert rows["430100"] == [
        "长沙市",
        "市级",
        "10,513,000",
        "1",
        "3",
        "0.29",
        "211",
        "208",
        "未达标",
    ]
    assert "vc-depth-2" in (page.select_one("tr[id='430102'] th") or {}).get("class", [])
    text = page.select_one("article")
    assert text is not None and TODAY.isoformat() in text.text and "HN-1d" in text.text
    assert "不少于 20 家" in text.text


def test_hn2c_draw_page_seed_and_sorted_usccs_without_reasons(
    hunan: tuple[Store, Path, Path],
) -> None:
    """HN-2c, PUB-1: the seed, the method and each region's drawn organisations sorted by USCC,
    with no reason and not in draw order; never-identified organisations (drawn through their
    records or a complaint) are only counted."""
    store, site, _ = hunan
    with store.read() as conn:
        draws = spotcheck.recorded_draws(conn, 2026)
    page = soup(site, "spotchecks/2026")
    text = page.select_one("article")
    assert text is not None and SEED in text.text and DRAWN_ON.isoformat() in text.text
    assert f"volcredit spotcheck --year 2026 --seed {SEED}" in text.text
    assert any([u for u, _ in d.drawn] != sorted(u for u, _ in d.drawn) for d in draws)
    for d in draws:
        heading = page.select_one(f"h2[id='{d.region}']")
        assert heading is not None
        section = []
        for sib in heading.find_next_siblings():
            if sib.name == "h2":
                break
            section.append(sib)
        shown = [tr.select("td")[0].text for s in section for tr in s.select("tbody tr")]
        public = [u for u, _ in d.drawn if u not in COMPLAINED]
        assert shown == sorted(public), d.region
        others = len(d.drawn) - len(public)
        words = " ".join(s.get_text() for s in section)
        assert f"候选组织 {d.candidates} 家，抽取 {len(d.drawn)} 家" in words
        assert (f"其他组织、机构或团队 {others} 家" in words) is (others > 0)
        assert "投诉" not in words and "complaint" not in words
    body = page.decode()
    assert not any(label in body for label in spotcheck_findings.REASON_LABELS.values())
    assert not any(label in body for label in ITEMS.values())
    index = soup(site, "spotchecks").select("article a")
    assert [a["href"] for a in index if "2026" in a["href"]] == ["../spotchecks/2026/"]


def site_text(site: Path) -> str:
    chunks = []
    for path in sorted(site.rglob("*")):
        if path.is_file():
            raw = path.read_bytes().decode("utf-8", errors="ignore")
            chunks += [path.as_posix(), raw, html.unescape(raw)]
    return "\n".join(chunks)


def test_pub1_findings_complaints_and_complaint_draws_never_reach_the_site(
    hunan: tuple[Store, Path, Path],
) -> None:
    """PUB-1, HN-2d: a canary in a spot_check_findings note, in a recorded finding's note and
    in a complaint summary appears in no built file; the leak gate scans for the first two;
    organisations drawn only through a complaint are never named."""
    store, site, later = hunan
    with store.read() as conn:
        private = set(_private_values(conn))
    assert ("spot_check_findings.note", CANARY_NOTE) in private
    assert ("complaints.summary", CANARY_COMPLAINT) in private
    for built in (site, later):
        text = site_text(built)
        for value in (CANARY_NOTE, CANARY_COMPLAINT, CANARY_RECORDED, *COMPLAINED):
            assert value not in text


def test_hn2c_hn2d_staff_report_files(hunan: tuple[Store, Path, Path], tmp_path: Path) -> None:
    """HN-2c, HN-2d: per reporting unit a printable HTML report with the eight items, the seed,
    the due date and the findings, and a CSV (UTF-8 with BOM) equal to ``csv_rows``."""
    store, _, _ = hunan
    with store.read() as conn:
        reports = spotcheck_findings.reports(conn, 2026)
    written = write_reports(reports, tmp_path)
    units = [r.unit.code for r in reports]
    assert [p.name for p in written] == [
        f"spotcheck-2026-{u}.{ext}" for u in units for ext in ("html", "csv")
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    for report in reports:
        raw = (tmp_path / f"spotcheck-2026-{report.unit.code}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert rows == [list(r) for r in spotcheck_findings.csv_rows(report)]
        assert rows[0][7] == "检查内容" and len(rows) == 1 + 8 * sum(
            len(s.organisations) for s in report.regions
        )
    changsha = next(r for r in reports if r.unit.code == "430100")
    page = BeautifulSoup(
        (tmp_path / "spotcheck-2026-430100.html").read_text(encoding="utf-8"), "html.parser"
    )
    text = page.get_text()
    assert SEED in text and "2026年10月31日前" in text and "长沙市" in text
    assert all(label in text for label in ITEMS.values())
    assert spotcheck_findings.REASON_LABELS["complaint"] in text  # staff only
    assert CANARY_RECORDED in text and CANARY_NOTE in text
    total = page.select("table")[0].select("tbody tr")[-1]
    cells = [c.get_text(strip=True) for c in total.select("th, td")]
    orgs = [o for s in changsha.regions for o in s.organisations]
    assert cells[:2] == ["合计", str(len(orgs))]
    assert cells[3:5] == [
        str(sum(o.open_items for o in orgs)),
        str(sum(o.failed_items for o in orgs)),
    ]


def test_hn1d_hn2c_pages_on_postgresql_match_sqlite(
    pg_url: str, tmp_path: Path, hunan: tuple[Store, Path, Path]
) -> None:
    """HN-1d, HN-2c: the same store content on PostgreSQL publishes the same bytes."""
    store = open_store(pg_url)
    try:
        prepare(store)
        site = build(store, tmp_path, TODAY, "site")
    finally:
        store.dispose()
    _, on_sqlite, _ = hunan
    for rel in (
        "announcements",
        "announcements/identification/2026/110101",
        "announcements/identification/2026/110108",
        "coverage",
        "spotchecks",
        "spotchecks/2026",
    ):
        assert (site / rel / "index.html").read_bytes() == (
            on_sqlite / rel / "index.html"
        ).read_bytes(), rel
