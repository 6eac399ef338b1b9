"""Identification and the yearly announcement over HTTP (HN-1a–d): a registry officer decides on
the sample organisations, an organisation asks to be identified, announcements are published;
other accounts are refused and nothing is recorded without the CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from tests.builders import load
from tests.portal.conftest import World, serve_world
from volcredit import publication
from volcredit.store.engine import Store
from volcredit.store.schema import history

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
CHUNNI = "52430302MJD6185323"  # 春泥志愿服务中心: keyword + charter, not identified (HN-1a)
KANGNING = "52430302MJD58204XK"  # 康宁养老服务中心: no keyword, charter not verified
XINGQIAO = "52430104MJD4052625"  # 星桥研学服务中心: no keyword
LETU = "52430302MJD661792Q"  # 乐途义工旅行服务中心: keyword, charter without the purpose
NUANYANG = "51430102MJD274186X"  # 暖阳义工协会: identified directly in 2024


@pytest.fixture
def sample(store: Store, tmp_path: Path) -> Iterator[World]:
    """The portal over the sample content (content/), on SQLite and on PostgreSQL."""
    result = load(store, CONTENT, TODAY)
    assert result.ok, result.log.lines()
    yield from serve_world(store, tmp_path)


def officer(world: World, name: str = "registry") -> httpx.Client:
    return world.staff(name, ("registry_officer",))


def organisation(world: World, uscc: str, name: str) -> httpx.Client:
    world.account("organisation", uscc, name)
    return world.login(uscc)


def soup(r: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def text_of(r: httpx.Response, selector: str) -> str:
    found = soup(r).select_one(selector)
    assert found is not None, (selector, r.status_code, r.text[:2000])
    return found.get_text(" ", strip=True)


def history_size(world: World) -> int:
    with world.store.read() as conn:
        return conn.execute(select(func.count()).select_from(history)).scalar_one()


def listed(world: World, uscc: str, on: date = TODAY) -> publication.PublicOrganisation | None:
    with world.store.read() as conn:
        found = [o for o in publication.organisations(conn, on) if o.uscc == uscc]
    return found[0] if found else None


def decide(world: World, cl: httpx.Client, uscc: str, data: dict[str, str]) -> httpx.Response:
    return world.post(cl, f"/staff/identification/{uscc}", data)


def test_direct_identification_is_published_hn_1a(sample: World) -> None:
    """HN-1a: the sample's qualifying, unidentified organisation is identified directly once the
    officer confirms the charter; the public projection then lists it (name_keyword)."""
    cl = officer(sample)
    assert listed(sample, CHUNNI) is None
    queue = "#candidates + p + .vc-table-wrap tbody"
    assert CHUNNI in text_of(cl.get("/staff/identification"), queue)  # listed as a candidate
    found = cl.get("/staff/identification", params={"uscc": f" {CHUNNI.lower()} "})
    assert (
        found.status_code == 303 and found.headers["location"] == f"/staff/identification/{CHUNNI}"
    )
    page = cl.get(found.headers["location"])
    assert page.status_code == 200 and "湘潭市雨湖区春泥志愿服务中心" in page.text
    assert "未认定" in text_of(page, "#state") and soup(page).select_one("#form-direct")
    assert "18673210458" not in page.text and "春泥巷" not in page.text  # contact data: PUB-1
    before = history_size(sample)
    unticked = decide(sample, cl, CHUNNI, {"decision": "direct"})
    assert unticked.status_code == 400 and "请确认章程" in text_of(unticked, "#e-direct_charter")
    assert history_size(sample) == before
    ok = decide(sample, cl, CHUNNI, {"decision": "direct", "direct_charter": "yes"})
    assert ok.status_code == 303 and ok.headers["location"].endswith("?done=direct")
    done = cl.get(ok.headers["location"])
    assert "volcredit build" in text_of(done, ".vc-message")
    assert "已认定" in text_of(done, "#state") and "直接认定（HN-1a）" in text_of(done, "#history")
    assert "工作人员registry" in text_of(done, "#history")
    assert not soup(done).select_one("#form-direct") and soup(done).select_one("#form-remove")
    assert CHUNNI not in text_of(cl.get("/staff/identification"), queue)
    entry = listed(sample, CHUNNI)
    assert entry is not None and (entry.identified_on, entry.identification_basis) == (
        TODAY,
        "name_keyword",
    )
    with sample.store.read() as conn:
        (row,) = conn.execute(select(history).where(history.c.ref == CHUNNI)).all()
    assert (row.event, row.source, row.date) == ("identified_direct", "portal", TODAY)
    assert row.actor.startswith("portal:")


def test_direct_identification_refused_without_keyword_hn_1a(sample: World) -> None:
    """HN-1a: a name without 志愿服务/志愿者/义工 cannot be identified directly (400, the rule's
    message, nothing recorded); a keyword whose registered charter lacks the purpose neither."""
    cl = officer(sample)
    page = cl.get(f"/staff/identification/{KANGNING}")
    assert page.status_code == 200 and not soup(page).select_one("#form-direct")
    before = history_size(sample)
    r = decide(sample, cl, KANGNING, {"decision": "direct", "direct_charter": "yes"})
    assert r.status_code == 400
    assert "名称不含“志愿服务”“志愿者”或“义工”" in text_of(r, "#e-direct")
    r = decide(sample, cl, LETU, {"decision": "direct", "direct_charter": "yes"})
    assert r.status_code == 400 and "章程未载明" in text_of(r, "#e-direct")
    assert history_size(sample) == before
    assert listed(sample, KANGNING) is None and listed(sample, LETU) is None
    missing = cl.get("/staff/identification", params={"uscc": "52430302MJD0000000"})
    assert missing.status_code == 400 and "没有找到" in text_of(missing, "#e-uscc")
    assert cl.get("/staff/identification/NOT-A-USCC").status_code == 404


def test_request_then_identified_on_request_hn_1b(sample: World) -> None:
    """HN-1b: the organisation asks in its portal; the request waits in the staff list, oldest
    first; it is identified only once the officer ticks the verified charter; the request closes."""
    org = organisation(sample, KANGNING, "湘潭市雨湖区康宁养老服务中心")
    me = org.get("/me")
    assert "未认定" in text_of(me, "#identification")
    assert sample.post(org, "/me/identification").status_code == 303
    me = org.get("/me")
    assert "等待民政部门核准章程" in text_of(me, "#identification")
    assert soup(me).select_one('form[action="/me/identification"]') is None
    again = sample.post(org, "/me/identification")
    assert again.status_code == 400 and "正在办理" in text_of(again, "#e-identification")
    sample.clock.advance(timedelta(days=1))
    later = organisation(sample, XINGQIAO, "长沙市岳麓区星桥研学服务中心")
    assert sample.post(later, "/me/identification").status_code == 303
    sample.clock.advance(timedelta(days=2))
    cl = officer(sample)
    rows = soup(cl.get("/staff/identification")).select("#requests + p + .vc-table-wrap tbody tr")
    cells = [[td.get_text(strip=True) for td in row.select("td")] for row in rows]
    assert [(c[1], c[4], c[5]) for c in cells] == [
        (KANGNING, "2026-11-21", "3 天"),
        (XINGQIAO, "2026-11-22", "2 天"),
    ]
    before = history_size(sample)
    unticked = decide(
        sample, cl, KANGNING, {"decision": "on_request", "request_ref": "湘民核〔2026〕7号"}
    )
    assert unticked.status_code == 400
    assert "章程核准未确认" in text_of(unticked, "#e-request_charter")
    no_ref = decide(sample, cl, KANGNING, {"decision": "on_request", "request_charter": "yes"})
    assert no_ref.status_code == 400 and "章程核准文号" in text_of(no_ref, "#e-request_ref")
    assert history_size(sample) == before
    ok = decide(
        sample,
        cl,
        KANGNING,
        {"decision": "on_request", "request_charter": "yes", "request_ref": "湘民核〔2026〕7号"},
    )
    assert ok.status_code == 303
    page = cl.get(ok.headers["location"])
    assert "volcredit build" in text_of(page, ".vc-message")
    assert "湘民核〔2026〕7号" in text_of(page, "#history")
    today = TODAY + timedelta(days=3)
    entry = listed(sample, KANGNING, today)
    assert entry is not None and entry.identification_basis == "charter_verified"
    assert KANGNING not in cl.get("/staff/identification").text
    org = sample.login(KANGNING)
    assert "已认定为志愿服务组织" in text_of(org.get("/me"), "#identification")


def test_refused_request_closes_and_may_be_asked_again_hn_1b(sample: World) -> None:
    """HN-1b: a refusal needs a reason, closes the request, and is shown to the organisation."""
    org = organisation(sample, XINGQIAO, "长沙市岳麓区星桥研学服务中心")
    assert sample.post(org, "/me/identification").status_code == 303
    cl = officer(sample)
    assert XINGQIAO in cl.get("/staff/identification").text
    before = history_size(sample)
    r = decide(sample, cl, XINGQIAO, {"decision": "refuse", "refuse_reason": " "})
    assert r.status_code == 400 and "理由" in text_of(r, "#e-refuse_reason")
    assert history_size(sample) == before
    reason = "章程未载明以开展志愿服务为宗旨"
    assert (
        decide(sample, cl, XINGQIAO, {"decision": "refuse", "refuse_reason": reason}).status_code
        == 303
    )
    assert XINGQIAO not in cl.get("/staff/identification").text
    assert listed(sample, XINGQIAO) is None
    again = decide(sample, cl, XINGQIAO, {"decision": "refuse", "refuse_reason": reason})
    assert again.status_code == 400 and "没有待办的认定申请" in text_of(again, "#e-refuse")
    me = org.get("/me")
    assert "不予认定" in text_of(me, "#identification")
    assert soup(me).select_one('form[action="/me/identification"]') is not None


def test_removal_needs_the_amended_charter_and_its_reference_hn_1c(sample: World) -> None:
    """HN-1c: removal only when the officer confirms the amended charter dropped the purpose and
    gives its approval reference; the public projection then shows the removal date."""
    cl = officer(sample)
    page = cl.get(f"/staff/identification/{NUANYANG}")
    assert "已认定" in text_of(page, "#state") and soup(page).select_one("#form-remove")
    before = history_size(sample)
    ref = "长芙民核〔2026〕12号"
    unticked = decide(sample, cl, NUANYANG, {"decision": "remove", "remove_ref": ref})
    assert unticked.status_code == 400
    assert "不再以开展志愿服务为宗旨" in text_of(unticked, "#e-remove_charter")
    no_ref = decide(sample, cl, NUANYANG, {"decision": "remove", "remove_charter": "yes"})
    assert no_ref.status_code == 400 and "核准文号" in text_of(no_ref, "#e-remove_ref")
    assert history_size(sample) == before
    data = {"decision": "remove", "remove_charter": "yes", "remove_ref": ref}
    ok = decide(sample, cl, NUANYANG, data)
    assert ok.status_code == 303
    assert "撤销认定公告" in text_of(cl.get(ok.headers["location"]), ".vc-message")
    entry = listed(sample, NUANYANG)
    assert entry is not None and entry.removed_on == TODAY
    assert decide(sample, cl, NUANYANG, data).status_code == 400  # no longer identified


def test_announcements_published_once_per_region_hn_1d(sample: World) -> None:
    """HN-1d: on 20 June every region's 2026 announcement is due (a warning); one region, then
    all the others are published and shown as such; publishing again changes nothing."""
    sample.clock.current = datetime(2026, 6, 20, 1, 0, 0)
    cl = officer(sample)
    page = cl.get("/staff/announcements", params={"year": "2026"})
    assert page.status_code == 200
    rows = soup(page).select("#announcement-table tbody tr[data-region]")
    codes = [row["data-region"] for row in rows]
    assert len(codes) == 13 and "430302" in codes
    assert all(row["data-level"] == "due" and "还剩 10 天" in row.get_text() for row in rows)
    assert soup(page).select_one("#coverage-table .vc-shortfall")
    before = history_size(sample)
    future = sample.post(cl, "/staff/announcements", {"year": "2027", "region": ""})
    assert future.status_code == 400 and "2027" in text_of(future, "#e-year")
    one = sample.post(cl, "/staff/announcements", {"year": "2026", "region": "430302"})
    assert one.status_code == 303 and "published=1" in one.headers["location"]
    assert history_size(sample) == before + 1
    r = sample.post(cl, "/staff/announcements", {"year": "2026", "region": ""})
    assert r.status_code == 303 and f"published={len(codes) - 1}" in r.headers["location"]
    page = cl.get(r.headers["location"])
    assert "volcredit build" in text_of(page, ".vc-message")
    for code in codes:
        cell = text_of(page, f'#announcement-table tr[data-region="{code}"] .vc-published')
        assert cell == "已发布（2026-06-20）", (code, cell)
    assert "全部发布" in text_of(page, "#publish ~ p")
    size = history_size(sample)
    again = sample.post(cl, "/staff/announcements", {"year": "2026", "region": ""})
    assert again.status_code == 303 and "published=0" in again.headers["location"]
    assert history_size(sample) == size == before + len(codes)
    assert cl.get("/staff/announcements", params={"year": "20x6"}).status_code == 400


def test_new_pages_need_the_registry_role(sample: World) -> None:
    """HN-1a–d, BJ-23: staff without registry_officer get 403 on every new route; only the
    role's dashboard links the pages; subjects are refused too; nothing is recorded."""
    before = history_size(sample)
    clerk = sample.staff("clerk", ("case_officer", "records_officer", "auditor", "inspector"))
    vol = sample.volunteer("HN2024000204", "易春华")
    org = organisation(sample, CHUNNI, "湘潭市雨湖区春泥志愿服务中心")
    for cl in (clerk, vol, org):
        assert cl.get("/staff/identification").status_code == 403
        assert cl.get(f"/staff/identification/{CHUNNI}").status_code == 403
        assert cl.get("/staff/announcements").status_code == 403
        direct = {"decision": "direct", "direct_charter": "yes"}
        assert decide(sample, cl, CHUNNI, direct).status_code == 403
        assert sample.post(cl, "/staff/announcements", {"year": "2026"}).status_code == 403
    assert "/staff/identification" not in clerk.get("/staff").text
    registry = officer(sample)
    board = soup(registry.get("/staff"))
    assert board.select_one('a[href="/staff/identification"]')
    assert board.select_one('a[href="/staff/announcements"]')
    assert "组织认定与公告" in board.get_text()
    assert sample.post(registry, "/me/identification").status_code == 403  # staff: not a subject
    assert history_size(sample) == before


def test_a_volunteer_cannot_ask_for_identification_hn_1b(sample: World) -> None:
    """HN-1b: only organisations ask to be identified; a volunteer gets 403 and no section."""
    vol = sample.volunteer("HN2024000204", "易春华")
    before = history_size(sample)
    assert sample.post(vol, "/me/identification").status_code == 403
    assert soup(vol.get("/me")).select_one("#identification") is None
    assert history_size(sample) == before


def test_posts_without_the_csrf_token_change_nothing_hn_1b_hn_1d(sample: World) -> None:
    """HN-1b, HN-1d, ASVS 4.2.2: each new POST without the token is refused by the CSRF check."""
    registry, org = officer(sample), organisation(sample, KANGNING, "湘潭市雨湖区康宁养老服务中心")
    before = history_size(sample)
    attempts = [
        registry.post(
            f"/staff/identification/{CHUNNI}", data={"decision": "direct", "direct_charter": "yes"}
        ),
        registry.post("/staff/announcements", data={"year": "2026", "region": ""}),
        org.post("/me/identification", data={}),
    ]
    for r in attempts:
        assert r.status_code == 403 and "CSRF" in r.text, (r.url, r.status_code)
    assert history_size(sample) == before
    assert listed(sample, CHUNNI) is None
