"""Public search and the served site (BJ-14a, PUB-1): `/search` without JavaScript, `/api/search`
as JSON, over the index the build writes; the site is served beside the portal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator.build import build_site
from portal.search import PostgresSearch
from tests.builders import ORG_A, load, write_content
from tests.portal.conftest import (
    SECRET_STRINGS,
    TODAY,
    World,
    canary_tables,
    make_world,
    serve_world,
)
from volcredit.settings import Settings
from volcredit.store.engine import open_store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site built from the canary content (which the leak gate lets through)."""
    tmp = tmp_path_factory.mktemp("built")
    store = open_store(f"sqlite:///{tmp / 'build.sqlite3'}")
    assert load(store, write_content(tmp / "content", canary_tables())).ok
    result = build_site(store, tmp / "site", TODAY, Settings(signing_key=str(tmp / "k")))
    store.dispose()
    assert result.ok, result.leaks
    return tmp / "site"


@pytest.fixture(params=["whoosh", "postgresql"])
def site_world(request: pytest.FixtureRequest, built: Path, tmp_path: Path) -> Iterator[World]:
    """The portal searching the whoosh index of a site built from SQLite, or the PostgreSQL
    table a build from a PostgreSQL store wrote (the scale path): the same tests hold for both."""
    if request.param == "whoosh":
        store = open_store(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
        try:
            yield from make_world(store, tmp_path, site_dir=built)
        finally:
            store.dispose()
        return
    store = open_store(request.getfixturevalue("pg_url"))
    try:
        assert load(store, write_content(tmp_path / "content", canary_tables())).ok
        settings = Settings(signing_key=str(tmp_path / "k"), search="postgresql")
        result = build_site(store, tmp_path / "site", TODAY, settings)
        assert result.ok, result.leaks
        yield from serve_world(store, tmp_path, tmp_path / "site", PostgresSearch(store))
    finally:
        store.dispose()


def test_search_by_name_and_by_uscc_bj_14a(site_world: World) -> None:
    """BJ-14a: anyone finds public entries by an organisation's name, a person's name (two
    characters are enough) and a USCC typed in lower case; results link to the site's pages."""
    anon = site_world.client()
    page = anon.get("/search", params={"q": "阳光志愿者协会"})
    assert page.status_code == 200
    links = [a["href"] for a in BeautifulSoup(page.text, "html.parser").select(".vc-entry h2 a")]
    assert f"/organisations/{ORG_A}/" in links
    assert anon.get(links[0]).status_code == 200  # the static page, served beside the portal
    api = anon.get("/api/search", params={"q": ORG_A.lower()}).json()
    assert api["total"] >= 1 and api["hits"][0]["code"] == ORG_A
    names = anon.get("/api/search", params={"q": "若溪"}).json()
    assert any(h["kind"] == "honour" for h in names["hits"])


def test_search_answers_hold_public_projections_only_pub_1(site_world: World) -> None:
    """PUB-1: no never-public value in any search answer, whatever is asked."""
    anon = site_world.client()
    for q in ["林若溪", ORG_A, *SECRET_STRINGS[:6], "金丝雀", "13877770001"]:
        for path in ("/search", "/api/search"):
            text = anon.get(path, params={"q": q}).text
            assert [s for s in SECRET_STRINGS if s in text and s != q] == [], (path, q)
    assert anon.get("/api/search", params={"q": "金丝雀"}).json()["total"] == 0


def test_site_pages_carry_a_csp_that_allows_only_their_own_scripts(site_world: World) -> None:
    """The theme's inline scripts run by hash; the CSP never allows inline script in general."""
    home = site_world.client().get("/")
    assert home.status_code == 200 and 'action="/search"' in home.text
    csp = home.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    hashes = re.findall(r"'sha256-[^']+'", csp)
    assert hashes and len(hashes) == len(set(hashes))


def test_empty_and_long_queries_are_harmless_bj_14a(site_world: World) -> None:
    anon = site_world.client()
    assert anon.get("/api/search", params={"q": ""}).json()["total"] == 0
    assert anon.get("/api/search", params={"q": "志" * 5000}).status_code == 200
    assert anon.get("/search", params={"q": "AND OR NOT ( ) * ? ~ ^"}).status_code == 200
