"""The public site tried as a person would (issue 8): on a phone, by search, without JavaScript,
with axe on every page type, from the keyboard, and on paper.

The sample world is the repo's sample content (content/data): the names and USCCs below are
real rows of organisations.yaml and penalties.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Sample, check_axe, shot

# O1 (HN-1a): identified directly on its name and charter, with an organisation commendation.
XIAOGUANG = "北京市东城区晓光志愿服务协会"
XIAOGUANG_USCC = "51110101MJ01735256"
XIAOGUANG_IDENTIFIED = "2024-03-15（名称和章程直接认定）"
# O3 (HN-1b): identified on its own request after the charter was verified.
QINGHE = "北京市海淀区青禾社区发展中心"
QINGHE_USCC = "52110108MJ0315976C"
# VP-2026-003: notice by announcement (BJ-16a), its subject could not be reached.
NOTICE_SUBJECT = "湘潭市雨湖区乐途义工旅行服务中心"

# One page of every public page type, with a text that the page must show.
PAGE_TYPES = {
    "home": ("/", "可以查询什么"),
    "organisations": ("/organisations/", "东城区"),
    "region": ("/organisations/region/110101/", XIAOGUANG),
    "organisation": (f"/organisations/{XIAOGUANG_USCC}/", XIAOGUANG_USCC),
    "honours": ("/honours/", "表彰与荣誉"),
    "disclosures": ("/disclosures/", "异议处理中"),
    "announcements": ("/announcements/", "不良信息告知公告"),
    "notices": ("/announcements/notices/", NOTICE_SUBJECT),
    "identification": ("/announcements/identification/2026/110000/", "北京市"),
    "removals": ("/announcements/removals/", "撤销"),
    "coverage": ("/coverage/", "每百万"),
    "spotchecks": ("/spotchecks/2026/", QINGHE_USCC),
    "policy": ("/policies/beijing-credit-measures-2023/", "北京市志愿服务信用信息管理办法"),
    "help": ("/help/", "查询与帮助"),
    "search": (f"/search?q={quote(XIAOGUANG)}", XIAOGUANG_USCC),
    "verify": ("/verify", "证明编号"),
}

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _article(page: Page) -> Any:
    return page.locator("article").first


def _fits(page: Page) -> None:
    """Nothing on the page is wider than the viewport (no sideways scrolling of the page)."""
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} overflows horizontally"


def _shows_xiaoguang(page: Page) -> None:
    """The organisation page shows what a person needs (PUB-2): name, USCC, registration
    authority, region, and the date and basis of identification."""
    body = _article(page)
    expect(body.locator("h1")).to_have_text(XIAOGUANG)
    entry = body.locator(f"[id='{XIAOGUANG_USCC}']")
    for text in (XIAOGUANG_USCC, "北京市东城区民政局", "东城区", "认定日期", XIAOGUANG_IDENTIFIED):
        expect(entry.get_by_text(text, exact=True)).to_be_visible()


# 1. On a phone ----------------------------------------------------------------------------------


def test_phone_reaches_an_organisation_through_the_drawer_and_the_registers_pub2(
    sample: Sample, phone: Page
) -> None:
    """PUB-2 on a phone: home → drawer → organisations register → a region → an organisation,
    all by tapping what a phone user sees; nothing wider than the screen on the way."""
    phone.goto(sample.base + "/")
    expect(phone.locator(".md-tabs")).to_be_hidden()  # Material folds the tabs away on phones
    _fits(phone)
    phone.locator("header label[for='__drawer']").click()
    drawer = phone.locator("nav.md-nav--primary")
    expect(drawer.get_by_role("link", name="志愿服务组织")).to_be_in_viewport()
    assert check_axe(phone) == []  # the open drawer too
    drawer.get_by_role("link", name="志愿服务组织").click()
    expect(phone).to_have_url(sample.base + "/organisations/")
    _fits(phone)

    _article(phone).get_by_role("link", name="东城区", exact=True).click()
    expect(phone).to_have_url(sample.base + "/organisations/region/110101/")
    expect(_article(phone).locator("h1")).to_have_text("东城区志愿服务组织")
    _fits(phone)

    _article(phone).get_by_role("link", name=XIAOGUANG).first.click()
    expect(phone).to_have_url(f"{sample.base}/organisations/{XIAOGUANG_USCC}/")
    _shows_xiaoguang(phone)
    expect(_article(phone).get_by_text("京民社工发〔2025〕12号")).to_be_in_viewport(ratio=0)
    _fits(phone)
    shot(phone, "phone-organisation")


@pytest.mark.parametrize("kind", ["disclosures", "notices", "coverage", "honours", "search"])
def test_phone_register_pages_fit_the_screen(sample: Sample, phone: Page, kind: str) -> None:
    """The other registers on a 390 px screen: content shown, no sideways page scroll (the wide
    coverage table scrolls inside its own focusable region)."""
    path, text = PAGE_TYPES[kind]
    phone.goto(sample.base + path)
    expect(_article(phone).get_by_text(text).first).to_be_visible()
    _fits(phone)


# 2. Search (BJ-14a) -----------------------------------------------------------------------------


def _open_each_result(page: Page, results_url: str, expected: str) -> int:
    """Open every result link of a result page in turn; each target shows ``expected``."""
    page.goto(results_url)
    links = _article(page).locator(".vc-entry h2 a")
    count = links.count()
    for i in range(count):
        if i:
            page.goto(results_url)
        link = links.nth(i)
        href = link.get_attribute("href") or ""
        link.click()
        page.wait_for_url(lambda url, href=href: href.split("#")[0] in url)
        target = page.locator(f"[id='{href.split('#')[1]}']") if "#" in href else _article(page)
        expect(target.get_by_text(expected).first).to_be_visible()
    return count


def test_search_by_name_from_the_home_form_and_open_each_result_bj14a(
    sample: Sample, page: Page
) -> None:
    """BJ-14a: anyone searches by an organisation's name with the home page's form; every result
    opens a page that shows the organisation."""
    page.goto(sample.base + "/")
    form = _article(page).get_by_role("search")
    form.get_by_label("搜索组织、姓名或统一社会信用代码").fill("晓光")
    form.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(f"{sample.base}/search?q={quote('晓光')}")
    expect(page.get_by_role("status")).to_contain_text("共找到 2 条")
    result = _article(page).locator(".vc-entry").first
    expect(result.get_by_role("link", name=XIAOGUANG)).to_be_visible()
    expect(result).to_contain_text(XIAOGUANG_USCC)
    shot(page, "search-results")
    assert _open_each_result(page, page.url, XIAOGUANG) == 2


def test_search_by_uscc_and_open_each_result_bj14a(sample: Sample, page: Page) -> None:
    """BJ-14a: a search by USCC through /search?q= finds the organisation; its page opens."""
    url = f"{sample.base}/search?q={QINGHE_USCC}"
    page.goto(url)
    expect(_article(page).get_by_role("link", name=QINGHE)).to_be_visible()
    assert _open_each_result(page, url, QINGHE) >= 1
    page.goto(url)
    _article(page).get_by_role("link", name=QINGHE).click()
    expect(page).to_have_url(f"{sample.base}/organisations/{QINGHE_USCC}/")
    expect(_article(page).locator("h1")).to_have_text(QINGHE)
    expect(_article(page).get_by_text(QINGHE_USCC, exact=True).first).to_be_visible()


def test_search_for_nothing_public_says_so_bj14a(sample: Sample, page: Page) -> None:
    """BJ-14a / PUB-1: a search for a non-public fact (a contact phone) finds nothing."""
    page.goto(f"{sample.base}/search?q=010-84017326")
    expect(page.get_by_role("status")).to_be_visible()
    expect(_article(page).locator(".vc-entry")).to_have_count(0)


# 3. Without JavaScript --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["home", "organisations", "region", "organisation", "disclosures", "notices", "search"]
)
def test_pages_read_without_javascript(
    sample: Sample, new_page: Callable[..., Page], kind: str
) -> None:
    """No page needs JavaScript to be read: with scripts off, the content is all there."""
    page = new_page(java_script_enabled=False)
    path, text = PAGE_TYPES[kind]
    page.goto(sample.base + path)
    expect(_article(page).get_by_text(text).first).to_be_visible()
    # Material's script would have wrapped tables: proof that no script ran.
    assert page.locator(".md-typeset__scrollwrap").count() == 0


def test_browsing_and_searching_without_javascript_pub2_pub6_bj14a(
    sample: Sample, new_page: Callable[..., Page]
) -> None:
    """With scripts off a person still clicks through to an organisation (PUB-2), reads the
    disclosures with their objection mark (PUB-6) and searches (BJ-14a)."""
    page = new_page(java_script_enabled=False)
    page.goto(sample.base + "/")
    _article(page).get_by_role("link", name="已认定的志愿服务组织").click()
    _article(page).get_by_role("link", name="东城区", exact=True).click()
    _article(page).get_by_role("link", name=XIAOGUANG).first.click()
    _shows_xiaoguang(page)

    page.goto(sample.base + "/disclosures/")
    objected = page.locator("[id='VP-2026-010']")
    expect(objected.locator(".vc-mark")).to_have_text("异议处理中")
    expect(page.get_by_role("heading", name="许**")).to_be_visible()  # PUB-5: masked person

    page.goto(sample.base + "/")
    _article(page).get_by_role("searchbox").fill(QINGHE_USCC)
    _article(page).get_by_role("button", name="搜索").click()
    expect(_article(page).get_by_role("link", name=QINGHE)).to_be_visible()


# 4. Accessibility -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_axe_finds_nothing_serious_on_each_page_type(
    sample: Sample, page: Page, phone: Page, kind: str
) -> None:
    """axe-core (WCAG 2.1 AA): no serious or critical violation, on a desktop and on a phone."""
    path, text = PAGE_TYPES[kind]
    for viewer in (page, phone):
        viewer.goto(sample.base + path)
        expect(_article(viewer).get_by_text(text).first).to_be_visible()
        assert check_axe(viewer) == [], f"{kind} ({viewer.viewport_size})"


def test_tab_links_and_body_links_are_distinguishable(sample: Sample, page: Page) -> None:
    """The fixes axe asked for stay in place: tabs at full contrast, links underlined in text."""
    page.goto(sample.base + "/")
    tab = page.locator(".md-tabs__link").nth(1)
    expect(tab).to_be_visible()
    assert float(tab.evaluate("e => getComputedStyle(e).opacity")) >= 0.8
    link = _article(page).get_by_role("link", name="查询与帮助")
    assert "underline" in link.evaluate("e => getComputedStyle(e).textDecorationLine")


# 5. Keyboard ------------------------------------------------------------------------------------


def test_keyboard_only_search_from_the_home_page_bj14a(sample: Sample, page: Page) -> None:
    """BJ-14a from the keyboard: Tab reaches the search field, typing and Enter shows results."""
    page.goto(sample.base + "/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    else:
        pytest.fail("Tab never reached the search field")
    page.keyboard.type(XIAOGUANG)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{sample.base}/search?q={quote(XIAOGUANG)}")
    expect(_article(page).get_by_role("link", name=XIAOGUANG).first).to_be_visible()
    # and on from the results, still by keyboard: focus the first result, Enter opens it
    _article(page).get_by_role("link", name=XIAOGUANG).first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{sample.base}/organisations/{XIAOGUANG_USCC}/")


# 6. Print ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        (f"/organisations/{XIAOGUANG_USCC}/", (XIAOGUANG, XIAOGUANG_IDENTIFIED)),
        ("/announcements/notices/", (NOTICE_SUBJECT, "雨民罚决字〔2026〕第5号", "2026-12-02")),
    ],
    ids=["organisation-pub2", "notice-bj16a"],
)
def test_print_hides_the_site_chrome_and_keeps_the_content(
    sample: Sample, page: Page, path: str, texts: tuple[str, ...]
) -> None:
    """Printed, an organisation page (PUB-2) and a notice by announcement (BJ-16a) are the
    document alone: no header, tabs or footer; the content is all there."""
    page.goto(sample.base + path)
    chrome = [page.locator(s) for s in (".md-header", ".md-tabs", ".md-footer")]
    for part in chrome:
        expect(part).to_be_visible()
    page.emulate_media(media="print")
    for part in chrome:
        expect(part).to_be_hidden()
    expect(page.locator(".md-sidebar--primary")).to_be_hidden()
    for text in texts:
        expect(_article(page).get_by_text(text).first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(0, 0, 0)"
