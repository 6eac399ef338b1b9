"""The browser suite (issue 8): real Chromium (Debian's ``chromium``, driven by Playwright through
``executable_path``; Playwright cannot download browsers here) against the real site and portal,
served together by the app over HTTP from a real SQLite store loaded with the sample content.

- ``sample``: the served world (module-scoped: the store, the built site, the portal, its clock);
- ``browser``: one Chromium per module; ``page`` (desktop) and ``phone`` (390×844, touch);
- ``check_axe(page)``: axe-core (from npm, ``tests/e2e/node_modules``) on the page as shown,
  returning the serious and critical violations;
- ``shot(page, name)``: a screenshot into ``build/screenshots`` (or ``$VOLCREDIT_SCREENSHOTS``).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from argparse import Namespace
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from generator.build import build_site
from tests.builders import load
from tests.portal.conftest import PASSWORD, TODAY, World, serve_world
from volcredit.cli_demo import demo_publications
from volcredit.settings import Settings
from volcredit.store.engine import open_store

REPO = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("VOLCREDIT_SCREENSHOTS", REPO / "build" / "screenshots"))
# As the machine's notes advise: headless, no sandbox as root, and no background traffic (the
# network is closed, and Chromium's own connections would be refused many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@dataclass
class Sample:
    """The served sample: ``world`` as the portal tests know it, plus the built site."""

    world: World
    site: Path
    tmp: Path

    @property
    def base(self) -> str:
        return self.world.base

    def rebuild(self) -> None:
        """Build the site again from the store, as the web team's next build would."""
        settings = Settings(signing_key=str(self.tmp / "site.key"))
        result = build_site(self.world.store, self.site, self.world.clock.now().date(), settings)
        assert result.ok, result.leaks


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'sample.sqlite3'}"
    store = open_store(url)
    try:
        assert load(store, REPO / "content").ok
        settings = Settings(db_url=url, signing_key=str(tmp / "site.key"))
        with contextlib.redirect_stdout(io.StringIO()):  # the demo's account of what it did
            demo_publications(Namespace(db=url, today=TODAY), settings)
        site = tmp / "site"
        assert build_site(store, site, TODAY, settings).ok
        for world in serve_world(store, tmp, site):
            yield Sample(world, site, tmp)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module: Playwright's sync API keeps an event loop on this thread while
    it runs, so it must be stopped before tests that start their own (asyncio.run)."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: make test installs it (apt-get)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _context(browser: Browser, **options: Any) -> BrowserContext:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = _context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = _context(browser, **PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """A factory of pages, each in its own context (another person at another browser)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = _context(browser, accept_downloads=True, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def check_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 AA rules).

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    does not govern, so the page is checked with its real headers."""
    assert AXE.is_file(), f"{AXE} is missing: make test installs axe-core with npm"
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.failureSummary),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot of the page as ``<name>.png`` in the screenshots folder."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    return target


def log_in(page: Page, base: str, login: str, password: str = PASSWORD) -> None:
    """Log in through the login form as a person would (keyboard included)."""
    page.goto(f"{base}/login")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def staff_log_in(page: Page, sample: Sample, username: str, secret: str) -> None:
    """Password, then the TOTP code of the staff member's authenticator."""
    log_in(page, sample.base, username)
    page.get_by_label("身份验证器上显示的 6 位数字").fill(
        pyotp.TOTP(secret).at(sample.world.clock.now())
    )
    with page.expect_navigation():
        page.get_by_role("button", name="确认").click()
    assert "/login" not in page.url, page.inner_text("main")
