"""``volcredit build`` on the real store and the real built site (PUB-1..PUB-8, BJ-16a, BJ-17b,
HN-1c, HN-1d): what is published, on which dates, in which form, and nothing else."""

from __future__ import annotations

import dataclasses
import filecmp
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from whoosh import index
from whoosh.qparser import MultifieldParser

from generator.build import build_site
from generator.manifest import verify_site
from tests.builders import load
from volcredit import announcements
from volcredit import publication as pub
from volcredit.settings import Settings
from volcredit.store.engine import Store, open_store

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)


def settings(keys: Path) -> Settings:
    return Settings(signing_key=str(keys / "keys" / "site.key"))


def build(
    store: Store, tmp: Path, today: date = TODAY, name: str = "site", keys: Path | None = None
) -> Path:
    result = build_site(store, tmp / name, today, settings(keys or tmp))
    assert result.ok, result.leaks
    return tmp / name


def soup(site: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((site / rel / "index.html").read_text(encoding="utf-8"), "html.parser")


def entry_ids(site: Path, rel: str) -> set[str]:
    return {div["id"] for div in soup(site, rel).select("article .vc-entry")}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    tmp = tmp_path_factory.mktemp("sample")
    store = open_store(f"sqlite:///{tmp / 'store.sqlite3'}")
    assert load(store, CONTENT, TODAY).ok
    with store.write() as conn:  # HN-1d: announcement pages exist only once recorded
        announcements.publish(conn, 2026, date(2026, 6, 20), "test", "cli", datetime(2026, 6, 20))
    return store, build(store, tmp)


def test_pub2_identified_organisations_and_removal(sample: tuple[Store, Path]) -> None:
    """PUB-2, HN-1c: identified organisations each have a page; a candidate has none; a
    removal is announced with its date."""
    _, site = sample
    pages = {p.name for p in (site / "organisations").iterdir() if len(p.name) == 18}
    assert len(pages) == 10
    assert "52430302MJD6185323" not in pages  # the candidate never identified (HN-1a)
    removals = soup(site, "announcements/removals")
    row = removals.select_one("tbody tr")
    assert row is not None and "北京市海淀区知新文化交流中心" in row.text
    assert "2026-05-20" in row.text
    card = soup(site, f"organisations/{row['id']}").select_one(".vc-entry h2")
    assert card is not None and "认定已撤销" in card.text


def test_pub3_bj17b_honours_public_until_deletion(sample: tuple[Store, Path]) -> None:
    """PUB-3: persons by name and district, never by number; BJ-17b: a deleted honour is gone."""
    _, site = sample
    years = {y.name for y in (site / "honours").iterdir() if y.name.isdigit()}
    shown = set().union(*(entry_ids(site, f"honours/{y}") for y in years))
    assert "HON-2024-003" not in shown and len(shown) == 7
    text = (site / "honours/2025/index.html").read_text(encoding="utf-8")
    assert "张晓雨" in text and "BJ2024" not in text


def test_pub4_pub5_pub6_disclosures(sample: tuple[Store, Path]) -> None:
    """PUB-4: only listed cases inside their window; PUB-5: persons masked, organisations in
    full; PUB-6: the objection mark and the correction date."""
    _, site = sample
    assert entry_ids(site, "disclosures") == {
        "VP-2025-008",
        "VP-2025-015",
        "VP-2026-006",
        "VP-2026-007",
        "VP-2026-010",
        "VP-2026-011",
        "VP-2026-012",
        "VP-2026-013",
    }
    page = soup(site, "disclosures")
    person = page.select_one("#VP-2025-008 h2")
    assert person is not None and person.text.strip() == "许**"
    objection = page.select_one("#VP-2026-010 h2")
    assert objection is not None and "异议处理中" in objection.text
    corrected = page.select_one("#VP-2026-011")
    assert corrected is not None and "2026-06-09" in corrected.text and "更正日期" in corrected.text


def test_bj16a_notice_by_announcement_never_shows_an_id(sample: tuple[Store, Path]) -> None:
    _, site = sample
    assert entry_ids(site, "announcements/notices") == {"VP-2026-003"}
    assert "陈述申辩截止" in soup(site, "announcements/notices").text


def test_hn1d_yearly_identification_announcements(sample: tuple[Store, Path]) -> None:
    """HN-1d: one page per recorded announcement, listing that region's own organisations."""
    _, site = sample
    page = soup(site, "announcements/identification/2026/110101")
    names = [row.select("td")[1].text for row in page.select(".vc-list tbody tr")]
    assert names == ["北京市东城区晓光志愿服务协会"]
    assert not (site / "announcements/identification/2025").exists()  # never recorded
    index_links = [a["href"] for a in soup(site, "announcements").select("article a")]
    assert "../announcements/identification/2026/110101/" in index_links


def test_feed_sitemap_and_downloads_are_wellformed(sample: tuple[Store, Path]) -> None:
    _, site = sample
    atom = ET.parse(site / "feed.xml").getroot()
    assert len(atom.findall("{http://www.w3.org/2005/Atom}entry")) >= 5
    index_ = ET.parse(site / "sitemap.xml").getroot()
    part = ET.parse(site / "sitemaps/1.xml").getroot()
    locs = [e.text for e in part.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(index_) == 1 and "http://127.0.0.1:8000/organisations/51110101MJ01735256/" in locs
    orgs = json.loads((site / "downloads/organisations.json").read_text(encoding="utf-8"))
    assert len(orgs) == 10
    assert set(orgs[0]) == {f.name for f in dataclasses.fields(pub.PublicOrganisation)}
    assert not set(orgs[0]) & {"legal_representative", "contact_person", "address"}
    csv_lines = (site / "downloads/disclosures.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 9


def test_pub8_two_builds_are_byte_identical(sample: tuple[Store, Path], tmp_path: Path) -> None:
    """PUB-8: the same store and date give the same bytes, search index and signature included."""
    store, first = sample
    second = build(store, tmp_path, name="again", keys=first.parent)
    comparison = filecmp.dircmp(first.resolve(), second.resolve())
    stack, differing = [comparison], []
    while stack:
        c = stack.pop()
        assert not c.left_only and not c.right_only, (c.left_only, c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        differing += mismatch + errors
        stack += c.subdirs.values()
    assert differing == []


def test_search_index_finds_chinese_names_and_codes(sample: tuple[Store, Path]) -> None:
    """BJ-14a: the register search finds a Chinese word, a two-character name and a USCC."""
    _, site = sample
    ix = index.open_dir(str(site / "search-index"))
    parser = MultifieldParser(["title", "name", "code"], ix.schema)
    with ix.searcher() as searcher:

        def keys(q: str) -> set[str]:
            return {hit["key"] for hit in searcher.search(parser.parse(q), limit=None)}

        assert "organisation:51110101MJ01735256" in keys("晓光")
        assert "honour:HON-2025-001" in keys("晓雨")
        assert keys("51110101MJ01735256") >= {"organisation:51110101MJ01735256"}
        assert not any(k.endswith("HON-2024-003") for k in keys("周子墨"))
    lunr = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    assert lunr["config"]["lang"] == ["zh"]
    policy = [d["text"] for d in lunr["docs"] if d["location"].startswith("policies/beijing")]
    assert any("\u200b信用\u200b" in text for text in policy)  # segmented by jieba


def test_verify_site_names_changed_missing_and_extra_files(
    sample: tuple[Store, Path], tmp_path: Path
) -> None:
    store, _ = sample
    site = build(store, tmp_path).resolve()
    assert verify_site(site).ok
    page = site / "disclosures/index.html"
    page.write_bytes(page.read_bytes().replace(b"2026", b"2025", 1))
    (site / "feed.xml").unlink()
    (site / "extra.html").write_text("x", encoding="utf-8")
    problems = verify_site(site).problems
    assert problems == (
        "文件被改动：disclosures/index.html",
        "多出文件：extra.html",
        "缺少文件：feed.xml",
    )
    (site / "manifest.json").write_bytes(b"{}")
    assert "签名无效" in verify_site(site).problems[0]


@pytest.mark.parametrize(
    ("today", "case", "public"),
    [
        (date(2025, 3, 26), "VP-2025-016", False),  # BJ-16d: statement period still running
        (date(2025, 3, 27), "VP-2025-016", True),  # deemed listed the day after
        (date(2026, 3, 10), "VP-2025-016", True),  # PUB-4: last day of the 12-month maximum
        (date(2026, 3, 11), "VP-2025-016", False),
        (date(2026, 3, 15), "VP-2025-014", True),  # BJ-18: repair approved 2026-03-16
        (date(2026, 3, 16), "VP-2025-014", False),
        (date(2026, 6, 9), "VP-2025-015", True),  # PUB-4 minimum (2026-06-10) does not end it
        (date(2026, 6, 10), "VP-2025-015", True),
        (date(2026, 6, 11), "VP-2025-015", True),
    ],
)
def test_pub4_bj18_window_boundaries_on_the_built_site(
    sample: tuple[Store, Path], tmp_path: Path, today: date, case: str, public: bool
) -> None:
    store, _ = sample
    site = build(store, tmp_path, today)
    assert (case in entry_ids(site, "disclosures")) is public


@pytest.mark.parametrize(
    ("today", "shown"), [(date(2026, 9, 14), True), (date(2026, 9, 15), False)]
)
def test_bj17b_deletion_request_on_the_built_site(
    sample: tuple[Store, Path], tmp_path: Path, today: date, shown: bool
) -> None:
    store, _ = sample
    site = build(store, tmp_path, today)
    assert ("HON-2024-003" in entry_ids(site, "honours/2024")) is shown


def test_build_on_postgresql_publishes_the_same_registers(
    pg_url: str, tmp_path: Path, sample: tuple[Store, Path]
) -> None:
    store = open_store(pg_url)
    try:
        assert load(store, CONTENT, TODAY).ok
        site = build(store, tmp_path)
    finally:
        store.dispose()
    _, on_sqlite = sample
    for rel in ("disclosures", "organisations", "announcements/notices"):
        assert (site / rel / "index.html").read_bytes() == (
            on_sqlite / rel / "index.html"
        ).read_bytes()


def test_policy_pages_show_issuer_number_and_date(sample: tuple[Store, Path]) -> None:
    """The three policy texts as clean pages with issuer, document number and date."""
    _, site = sample
    for rel, number in [
        ("policies/beijing-credit-measures-2023", "京民社工发〔2023〕276号"),
        ("policies/chongqing-record-measures-2017", "渝民发〔2017〕56号"),
        ("policies/hunan-management-notice-2023", "湘民发〔2023〕29号"),
    ]:
        note = soup(site, rel).select_one("article p.vc-note")
        assert note is not None and number in note.text and "发文机关" in note.text
    assert "欢迎访问" not in (site / "policies/hunan-management-notice-2023/index.html").read_text(
        encoding="utf-8"
    )


def test_pub3_honours_browsable_by_document(sample: tuple[Store, Path]) -> None:
    """PUB-3: one page per document lists exactly the public honours it awarded."""
    _, site = sample
    links = soup(site, "honours").select("article h2 + ul a")
    doc_pages = [a["href"] for a in links if "documents/" in a["href"]]
    assert doc_pages
    seen: set[str] = set()
    for href in doc_pages:
        rel = "honours/" + href.split("honours/", 1)[1].rstrip("/")
        page = soup(site, rel)
        title = page.select_one("h1")
        assert title is not None
        number = title.text.split("：", 1)[1]
        for card in page.select("article .vc-entry"):
            assert number in card.text or "无文号" in number
            seen.add(card["id"])
    years = {y.name for y in (site / "honours").iterdir() if y.name.isdigit()}
    assert seen == set().union(*(entry_ids(site, f"honours/{y}") for y in years))


def _broken_links(site: Path) -> list[str]:
    broken = []
    for page in site.rglob("*.html"):
        for tag in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select(
            "[href], [src]"
        ):
            ref = str(tag.get("href") or tag.get("src"))
            if ref.startswith(("http:", "https:", "/", "#", "mailto:", "data:")):
                continue
            target = (page.parent / ref.split("#")[0]).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {ref}")
    return broken


@pytest.mark.parametrize("today", [TODAY, date(2026, 12, 10)])
def test_every_relative_link_resolves(
    sample: tuple[Store, Path], tmp_path: Path, today: date
) -> None:
    """No page links to a page the build did not write (e.g. an unidentified organisation)."""
    store, _ = sample
    site = build(store, tmp_path, today).resolve()
    assert _broken_links(site) == []


def test_pub8_byte_identical_across_processes_and_hash_seeds(
    sample: tuple[Store, Path], tmp_path: Path
) -> None:
    """PUB-8: a build in another process, with another hash seed, gives the same bytes."""
    import os
    import subprocess
    import sys

    store, first = sample
    env = {
        **os.environ,
        "PYTHONHASHSEED": "4242",
        "VOLCREDIT_SIGNING_KEY": str(first.parent / "keys" / "site.key"),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "volcredit",
            "build",
            "--db",
            store.url,
            "--today",
            TODAY.isoformat(),
            "--out",
            str(tmp_path / "other"),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    a, b = first.resolve(), (tmp_path / "other").resolve()
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    assert [str(p) for p in files_a if (a / p).read_bytes() != (b / p).read_bytes()] == []


def test_verify_site_refuses_links_inside_the_site(
    sample: tuple[Store, Path], tmp_path: Path
) -> None:
    store, _ = sample
    site = build(store, tmp_path).resolve()
    outside = tmp_path / "outside"
    outside.mkdir()
    (site / "extra-dir").symlink_to(outside)
    assert "链接（不应存在）：extra-dir" in verify_site(site).problems
