"""Shared helpers of the portal's security and robustness tests."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.routing import Mount, Route

from portal.app import PortalApp
from tests.portal.conftest import PASSWORD, TODAY, World
from volcredit.settings import Settings
from volcredit.store import portal_tables as pt
from volcredit.store.schema import certificates, history

ACCESS = {"public", "subject", "staff", "account", "second_factor"}
PUBLIC = {
    ("GET", p)
    for p in (
        "/search",
        "/api/search",
        "/healthz",
        "/login",
        "/activate",
        "/verify",  # certificate check (CQ-17): the number typed into a form
        "/verify/{certificate_no}",  # certificate check: status and public view only (PUB-1)
    )
} | {("POST", p) for p in ("/login", "/activate", "/activate/confirm")}
NEW_PASSWORD = "cobalt-meadow-whistle-93"
SESSION = "volcredit"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): randomness, nothing else
PDF = ("scan.pdf", b"%PDF-1.4\n%scan\n", "application/pdf")
CONSENT = {
    "recipient_kind": "person",
    "recipient_name": "陈景行",
    "recipient_id": "110101199001011237",
    "purpose": "核实志愿服务经历",
    "classes": ["basic"],
    "expires_on": (TODAY + timedelta(days=30)).isoformat(),
}
PAYLOADS: dict[str, dict[str, Any]] = {  # forms that would succeed with the token
    "/login": {"login": "V0001", "password": PASSWORD},
    "/account/password": {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "/me/id-number": {"password": PASSWORD},
    "/me/consents": CONSENT,
    "/staff/lookup": {"kind": "person", "key": "V0001", "ref": "投诉 2026-001"},
    "/staff/consents/paper": {"kind": "person", "key": "V0001", **CONSENT},
    "/staff/identification/x1": {"decision": "refuse", "refuse_reason": "章程不符"},
    "/staff/announcements": {"year": "2026", "region": ""},
    "/me/certificates": {"scope": "all"},
    "/staff/certificates/x1/revoke": {"reason": "所依据的服务记录有误"},
}


def routes(app: PortalApp) -> list[tuple[str, str, Any]]:
    """(method, path, endpoint) of every route; the site Mount "/" is the only other, last."""
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            found += [(m, route.path, route.endpoint) for m in sorted(route.methods or ())]
        else:
            assert isinstance(route, Mount) and route.path == "", route
            assert route is app.routes[-1], "the static site must be the last, catch-all route"
    return [r for r in found if r[0] != "HEAD"]


def concrete(path: str) -> str:
    """A path template with its parameters filled in (a number where the route wants one)."""
    return re.sub(r"\{[^}]+\}", "x1", re.sub(r"\{[^}:]+:int\}", "1", path))


def to_login(r: httpx.Response) -> bool:
    return r.status_code == 303 and r.headers["location"].startswith("/login")


def replay(world: World, token: str) -> httpx.Client:
    """A fresh browser presenting a copied session cookie."""
    cl = world.client()
    cl.cookies.set(SESSION, token)
    return cl


def try_login(world: World, address: str, login: str, password: str) -> int:
    """One login from the loopback address ``address`` (any 127.x.y.z)."""
    transport = httpx.HTTPTransport(local_address=address)
    cl = httpx.Client(base_url=world.base, transport=transport, timeout=30)
    world.clients.append(cl)
    return world.post(cl, "/login", {"login": login, "password": password}).status_code


def snapshot(world: World) -> dict[str, list[str]]:
    """Every row of the portal's tables and of the history (what a POST could change)."""
    tables = [pt.accounts, pt.sessions, pt.login_attempts, pt.one_time_codes, pt.consents]
    with world.store.read() as conn:
        return {
            t.name: sorted(map(repr, conn.execute(select(t))))
            for t in [*tables, pt.access_log, history, certificates]
        }


def set_cookies(r: httpx.Response) -> dict[str, set[str]]:
    """Set-Cookie by name: {"name=value", and each attribute lowercased ("path=/", ...)}."""
    found = {}
    for header in r.headers.get_list("set-cookie"):
        first, *attrs = header.split(";")
        found[first.split("=", 1)[0]] = {first} | {a.strip().lower() for a in attrs}
    return found


def settled(world: World, r: httpx.Response) -> int:
    """The status, once the server is done with the request: after a 500 uvicorn logs the
    traceback after answering, and CPython 3.11.7 can then fail pytest's report of this test
    with SystemError "AST constructor recursion depth mismatch" (two threads building ASTs)."""
    if r.status_code >= 500:
        world.client().get("/healthz")  # served only after the logging, on the same event loop
    return r.status_code


def portal_settings(tmp_path: Path, db_url: str, **kw: Any) -> Settings:
    site, outbox = str(tmp_path / "site"), str(tmp_path / "outbox")
    return Settings(db_url=db_url, site_dir=site, secret_key="k" * 48, outbox=outbox, **kw)


def assert_headers(r: httpx.Response, personal: bool) -> None:
    """ASVS 14.4: CSP without inline script or framing, nosniff, a referrer policy, no-store."""
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in {"no-referrer", "same-origin", "strict-origin"}
    assert "strict-transport-security" not in r.headers  # plain HTTP here
    if personal:
        assert r.headers["cache-control"] == "no-store", r.url
