"""Spot checks on the staff pages over real HTTP, on the sample content (HN-2c, HN-2d): the
draw recorded from a seed and reproducible, one seed a year, the pre-filled checklist and the
imported findings, findings recorded with errors beside the field, the CSV report, and the
pages closed to everyone but inspectors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from tests.builders import load
from tests.portal.conftest import TODAY, World, serve_world
from tests.portal.security_helpers import routes, snapshot
from volcredit.rules.access import STAFF_ROLES
from volcredit.rules.checklist import ITEMS
from volcredit.spotcheck import DRAWN, recorded_draws, region_draws
from volcredit.spotcheck_findings import CSV_HEADER, FINDING
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

CONTENT = Path(__file__).resolve().parents[2] / "content"
SEED = "2026-湖南-01"
NUANYANG = "51430102MJD274186X"  # 长沙市芙蓉区暖阳义工协会: one late 2026 record (SR000064)
XINGQIAO = "52430104MJD4052625"  # 长沙市岳麓区星桥研学服务中心: a 2026 complaint
CHANGSHA = "430100"


@pytest.fixture
def sample(store: Store, tmp_path: Path) -> Iterator[World]:
    """The portal on the sample content (content/data), on SQLite and on PostgreSQL."""
    result = load(store, CONTENT, TODAY)
    assert result.ok, result.log.lines()
    yield from serve_world(store, tmp_path)


def soup(r: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def one(page: BeautifulSoup | Tag, selector: str) -> Tag:
    found = page.select_one(selector)
    assert found is not None, selector
    return found


def text_of(page: BeautifulSoup | Tag, selector: str) -> str:
    return one(page, selector).get_text(" ", strip=True)


def draw(world: World, inspector: httpx.Client, seed: str = SEED, **kw: str) -> httpx.Response:
    data = {"year": "2026", "seed": seed, "action": "record", **kw}
    return world.post(inspector, "/staff/spotchecks", data)


def events(world: World, event: str) -> list[Any]:
    h = history_table
    with world.store.read() as conn:
        return list(conn.execute(select(h).where(h.c.event == event).order_by(h.c.seq)))


def drawn_usccs(world: World) -> list[str]:
    with world.store.read() as conn:
        return [u for d in recorded_draws(conn, 2026) for u, _ in d.drawn]


def csv_of(r: httpx.Response) -> list[list[str]]:
    assert r.content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for spreadsheet programs"
    return list(csv.reader(io.StringIO(r.content[3:].decode("utf-8"))))


def test_draw_is_recorded_with_its_seed_and_reproducible_hn_2c(sample: World) -> None:
    """HN-2c: the preview records nothing; the draw is recorded in the history with the seed,
    and the recorded draw is exactly the draw the same seed gives again."""
    inspector = sample.staff("checker", ("inspector",))
    page = soup(inspector.get("/staff/spotchecks"))
    assert "2026" in text_of(page, "h1") and page.select_one("#draw-form") is not None
    assert "2026-08-31" in text_of(page, "#due-draw")
    assert "2026-10-31" in text_of(page, "#due-report")
    before = snapshot(sample)
    preview = draw(sample, inspector, action="preview")
    assert preview.status_code == 200
    assert {li["data-uscc"] for li in soup(preview).select(".vc-preview li")} >= {NUANYANG}
    assert snapshot(sample) == before
    r = draw(sample, inspector)
    assert r.status_code == 303 and r.headers["location"] == "/staff/spotchecks?year=2026"
    recorded = events(sample, DRAWN)
    assert recorded and {(e.source, e.date) for e in recorded} == {("portal", TODAY)}
    assert {e.payload["seed"] for e in recorded} == {SEED}
    assert all(e.actor.startswith("portal:") for e in recorded)
    with sample.store.read() as conn:
        stored = [(d.region, d.candidates, d.drawn) for d in recorded_draws(conn, 2026)]
        again = [
            (d.code, d.candidates, [(x.candidate.uscc, x.reason) for x in d.drawn])
            for d in region_draws(conn, 2026, SEED)
        ]
    assert stored == again
    page = soup(inspector.get(r.headers["location"]))
    assert text_of(page, "#draw-seed") == SEED
    assert text_of(page, "#draw-date") == TODAY.isoformat()
    assert page.select_one("#draw-form") is None
    assert "抽取晚于期限" in text_of(page, "#due-draw")  # drawn in November (HN-2c: by August)
    shown = [tr["data-uscc"] for tr in page.select("table.vc-drawn tr[data-uscc]")]
    assert sorted(shown) == sorted(drawn_usccs(sample))
    row = one(page, f'tr[data-uscc="{XINGQIAO}"]')
    assert "投诉" in row.get_text()  # staff see why it was drawn
    link = one(page, f'tr[data-uscc="{NUANYANG}"] a')
    assert link["href"] == f"/staff/spotchecks/2026/{NUANYANG}"


def test_a_year_has_one_seed_another_is_refused_hn_2c(sample: World) -> None:
    """HN-2c: once drawn, another seed is refused beside the seed field (400) and nothing
    changes; the same seed again adds nothing."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    before = snapshot(sample)
    r = draw(sample, inspector, seed="换一个种子")
    assert r.status_code == 400
    field = one(soup(r), "#draw-form .vc-field--error")
    assert one(field, "input")["name"] == "seed" and "不能换种子重抽" in field.get_text()
    assert snapshot(sample) == before
    assert draw(sample, inspector).status_code == 303
    assert snapshot(sample) == before
    for bad in ("", "x" * 65):
        r = draw(sample, inspector, seed=bad)
        assert r.status_code == 400 and one(soup(r), "#draw-form .vc-field--error #f-seed")
    assert snapshot(sample) == before


def test_future_year_cannot_be_drawn_hn_2c(sample: World) -> None:
    """HN-2c: a year is drawn in that year, never ahead of it."""
    inspector = sample.staff("checker", ("inspector",))
    assert soup(inspector.get("/staff/spotchecks?year=2027")).select_one("#draw-form") is None
    before = snapshot(sample)
    r = draw(sample, inspector, year="2027")
    assert r.status_code == 400 and "2027 年内抽取" in text_of(soup(r), "#draw-form")
    assert snapshot(sample) == before
    assert inspector.get("/staff/spotchecks?year=abc").status_code == 400


def test_checklist_shows_prefill_evidence_and_imported_findings_hn_2d(sample: World) -> None:
    """HN-2d: the pre-fill comes from the records (暖阳's one late 2026 record makes item 2 a
    suggested fail, marked as a suggestion), and the imported findings stand as results."""
    sr = content_tables["service_records"]
    with sample.store.read() as conn:
        late = conn.execute(
            select(sr.c.record_id).where(
                sr.c.organisation == NUANYANG,
                sr.c.date.between(date(2026, 1, 1), date(2026, 12, 31)),
                sr.c.late_entry.is_(True),
            )
        ).scalars()
        assert list(late) == ["SR000064"]
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    page = soup(inspector.get(f"/staff/spotchecks/2026/{NUANYANG}"))
    assert "长沙市芙蓉区暖阳义工协会" in text_of(page, "h1")
    assert len(page.select("section.vc-item")) == len(ITEMS) == 8
    item2 = one(page, "#item-2")
    assert "预填建议，待确认" in text_of(item2, ".vc-prefill")
    assert text_of(item2, ".vc-suggestion") == "不通过"
    assert "1 条记录超过 10 个工作日才录入" in text_of(item2, ".vc-evidence")
    imported = yaml.safe_load((CONTENT / "data" / "spot_check_findings.yaml").read_text("utf-8"))
    mine = [f for f in imported if f["organisation"] == NUANYANG and f["year"] == 2026]
    assert mine
    for f in mine:
        section = one(page, f"#item-{f['item']}")
        assert section["data-outcome"] == f["result"]
        assert text_of(section, ".vc-result") == {"pass": "通过", "fail": "不通过"}[f["result"]]
        assert text_of(section, ".vc-source") == "数据导入"
        if f["note"]:
            assert text_of(section, ".vc-finding-note") == f["note"]
    open_items = 8 - len(mine)
    assert text_of(page, "#counts") == f"{open_items} / 1"
    assert text_of(one(page, "#item-3"), ".vc-result") == "待检查"


def test_recorded_finding_changes_the_outcome_and_the_csv_report_hn_2d(sample: World) -> None:
    """HN-2d: a checker's findings are recorded in the history (source portal), change the
    outcome on the checklist and the overview, and appear in the unit's CSV report."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    url = f"/staff/spotchecks/2026/{NUANYANG}"
    form = {"result-3": "pass", "note-3": "纸质签到表已录入", "result-4": "fail"}
    r = sample.post(inspector, url, {**form, "note-4": "=发放误工费（超出必要补贴）"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?recorded=2"
    recorded = events(sample, FINDING)
    assert [(e.ref, e.payload, e.source) for e in recorded] == [
        (f"SCF-2026-{NUANYANG}", {"item": 3, "result": "pass"}, "portal"),
        (f"SCF-2026-{NUANYANG}", {"item": 4, "result": "fail"}, "portal"),
    ]
    page = soup(inspector.get(r.headers["location"]))
    assert "已记录 2 项" in text_of(page, ".vc-message")
    item4 = one(page, "#item-4")
    assert item4["data-outcome"] == "fail" and text_of(item4, ".vc-source") == "门户录入"
    assert TODAY.isoformat() in text_of(item4, ".vc-finding")
    assert text_of(page, "#counts") == "3 / 2"
    overview = soup(inspector.get("/staff/spotchecks?year=2026"))
    row = one(overview, f'tr[data-uscc="{NUANYANG}"]')
    assert (text_of(row, ".vc-open"), text_of(row, ".vc-failed")) == ("3", "2")
    rows = csv_of(inspector.get(f"/staff/spotchecks/2026/report/{CHANGSHA}.csv"))
    mine = {r[6]: r for r in rows[1:] if r[3] == NUANYANG}
    assert mine["4"][10:] == ["不通过", "'=发放误工费（超出必要补贴）", "portal"]  # no formula
    assert mine["3"][10:] == ["通过", "纸质签到表已录入", "portal"]
    assert mine["2"][8:11] == ["不通过", "1 条记录超过 10 个工作日才录入", "不通过"]
    assert mine["5"][10:] == ["待检查", "", ""]


def test_fail_needs_a_note_beside_the_field_and_nothing_is_recorded_hn_2d(sample: World) -> None:
    """HN-2d: a fail without a note is refused beside that note (400); the whole form is then
    not recorded, not even its valid items."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    url = f"/staff/spotchecks/2026/{NUANYANG}"
    before = snapshot(sample)
    r = sample.post(inspector, url, {"result-3": "pass", "result-4": "fail", "note-4": " "})
    assert r.status_code == 400
    page = soup(r)
    error = one(page, "#item-4 .vc-field--error")
    assert one(error, "textarea")["name"] == "note-4" and "不通过" in text_of(error, ".vc-error")
    assert one(page, '#item-3 input[value="pass"]').has_attr("checked")  # kept for correction
    assert page.select("#item-3 .vc-error") == []
    r = sample.post(inspector, url, {"result-5": "maybe"})
    assert r.status_code == 400 and one(soup(r), "#item-5 fieldset.vc-field--error")
    r = sample.post(inspector, url, {"note-6": "只有说明"})
    assert r.status_code == 400 and one(soup(r), "#item-6 fieldset.vc-field--error")
    r = sample.post(inspector, url, {})
    assert r.status_code == 400 and one(soup(r), "#e-form")
    assert snapshot(sample) == before


def test_organisation_not_drawn_is_404_hn_2c(sample: World) -> None:
    """HN-2c, HN-2d: only organisations in the year's recorded draw have a checklist."""
    inspector = sample.staff("checker", ("inspector",))
    url = f"/staff/spotchecks/2026/{NUANYANG}"
    assert inspector.get(url).status_code == 404  # no draw yet
    assert draw(sample, inspector).status_code == 303
    o = content_tables["organisations"]
    with sample.store.read() as conn:
        usccs = set(conn.execute(select(o.c.uscc)).scalars())
    outside = sorted(usccs - set(drawn_usccs(sample)))
    assert outside
    before = snapshot(sample)
    for path in (f"/staff/spotchecks/2026/{outside[0]}", f"/staff/spotchecks/2025/{NUANYANG}"):
        assert inspector.get(path).status_code == 404
        assert sample.post(inspector, path, {"result-1": "pass"}).status_code == 404
    assert inspector.get("/staff/spotchecks/2026/report/999999.csv").status_code == 404
    assert inspector.get(f"/staff/spotchecks/2025/report/{CHANGSHA}.csv").status_code == 404
    assert snapshot(sample) == before


def test_only_inspectors_reach_spotcheck_pages_hn_2c(sample: World) -> None:
    """HN-2c, BJ-23: staff holding every role but ``inspector`` get 403 on every spot-check
    route (GET and POST with a valid CSRF token), and change nothing."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    others = sample.staff("others", tuple(r for r in STAFF_ROLES if r != "inspector"))
    found = [(m, p) for m, p, _ in routes(sample.app) if p.startswith("/staff/spotchecks")]
    assert len(found) == 5
    params = {"year": "2026", "uscc": NUANYANG, "unit": CHANGSHA}
    before = snapshot(sample)
    for method, path in found:
        url = path.format(**params)
        if method == "GET":
            r = others.get(url)
        else:
            r = sample.post(others, url, {"seed": "他人种子", "result-1": "fail", "note-1": "x"})
        assert r.status_code == 403, (method, url, r.status_code)
        assert NUANYANG not in r.text
        if method == "GET":
            assert inspector.get(url).status_code == 200, url  # the control
    assert snapshot(sample) == before
    assert sample.volunteer("HN2024000201", "志愿者").get("/staff/spotchecks").status_code == 403


def test_post_without_csrf_token_changes_nothing_asvs_4_2_2(sample: World) -> None:
    """ASVS 4.2.2, HN-2c: the draw and the findings forms without the CSRF token are refused
    (403) and nothing is recorded."""
    inspector = sample.staff("checker", ("inspector",))
    inspector.get("/staff/spotchecks")
    before = snapshot(sample)
    r = inspector.post("/staff/spotchecks", data={"year": "2026", "seed": SEED})
    assert r.status_code == 403 and "CSRF" in r.text
    assert snapshot(sample) == before
    assert draw(sample, inspector).status_code == 303
    before = snapshot(sample)
    url = f"/staff/spotchecks/2026/{NUANYANG}"
    r = inspector.post(url, data={"result-3": "pass", "note-3": "x"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert snapshot(sample) == before


def test_csv_report_per_unit_hn_2c(sample: World) -> None:
    """HN-2c: each reporting unit's report as a CSV download: BOM, the contract's header, one
    row per drawn organisation and HN-2d item; a personal download, never cached."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    page = soup(inspector.get("/staff/spotchecks?year=2026"))
    links = [a["href"] for a in page.select("a.vc-csv")]
    assert f"/staff/spotchecks/2026/report/{CHANGSHA}.csv" in links
    total = 0
    for link in links:
        r = inspector.get(link)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["cache-control"] == "no-store"
        rows = csv_of(r)
        assert tuple(rows[0]) == CSV_HEADER
        unit = str(link).rsplit("/", 1)[1].removesuffix(".csv")
        section = one(page, f"#unit-{unit}")
        orgs = [tr["data-uscc"] for tr in section.select("tr[data-uscc]")]
        assert len(rows) - 1 == len(orgs) * len(ITEMS)
        assert sorted({r[3] for r in rows[1:]}) == sorted(orgs)
        assert all(len(r) == len(CSV_HEADER) for r in rows)
        total += len(orgs)
    assert total == len(drawn_usccs(sample))


def test_odd_years_and_identifiers_never_fail_asvs_7_4_1(sample: World) -> None:
    """ASVS 7.4.1, HN-2c: odd years, codes and counts in the addresses give 400 or 404, or the
    page, never a server error."""
    inspector = sample.staff("checker", ("inspector",))
    assert draw(sample, inspector).status_code == 303
    odd = ["²", "0", "-1", "9" * 30, "1999", "9999", "%00", "..%2F..", "' OR 1=1 --", "x1"]
    for value in odd:
        for path in (
            f"/staff/spotchecks?year={value}",
            f"/staff/spotchecks/{value}/{NUANYANG}",
            f"/staff/spotchecks/2026/{value}",
            f"/staff/spotchecks/{value}/report/{CHANGSHA}.csv",
            f"/staff/spotchecks/2026/report/{value}.csv",
            f"/staff/spotchecks/2026/{NUANYANG}?recorded={value}",
        ):
            r = inspector.get(path)
            assert r.status_code in (200, 400, 404), (path, r.status_code)
        r = draw(sample, inspector, year=value)
        assert r.status_code in (303, 400), (value, r.status_code)
    assert drawn_usccs(sample) and {e.payload["year"] for e in events(sample, DRAWN)} == {2026}
