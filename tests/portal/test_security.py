"""Security tests over real HTTP (ASVS 2.2, 3, 4, 13, 14; STYLE 4, STYLE 5): deny by default,
CSRF on every unsafe route, server-side sessions, login throttling, security headers on every
answer, no 500 for any generated request, and the request-body cap."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import socket
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text
from starlette.routing import Mount, Route

from portal import sessions
from portal.app import PortalApp, create_app
from portal.security import MAX_BODY_BYTES
from tests.portal.conftest import PASSWORD, TODAY, World, csrf_of
from tests.portal.server import serving
from volcredit.rules.access import STAFF_ROLES
from volcredit.settings import Settings
from volcredit.store import portal_tables
from volcredit.store.engine import open_store
from volcredit.store.schema import history

ACCESS = {"public", "subject", "staff", "account", "second_factor"}
PUBLIC = {
    ("GET", "/search"),
    ("GET", "/api/search"),
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/activate"),
    ("POST", "/activate"),
    ("POST", "/activate/confirm"),
}
NEW_PASSWORD = "cobalt-meadow-whistle-93"
SESSION = "volcredit"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): nothing but randomness
PDF = ("scan.pdf", b"%PDF-1.4\n%scan\n", "application/pdf")
CONSENT = {
    "recipient_kind": "person",
    "recipient_name": "陈景行",
    "recipient_id": "110101199001011237",
    "purpose": "核实志愿服务经历",
    "classes": ["basic"],
    "expires_on": (TODAY + timedelta(days=30)).isoformat(),
}
PAYLOADS: dict[str, dict[str, Any]] = {  # forms that would succeed with a token
    "/login": {"login": "V0001", "password": PASSWORD},
    "/account/password": {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "/me/id-number": {"password": PASSWORD},
    "/me/consents": CONSENT,
    "/staff/lookup": {"kind": "person", "key": "V0001", "ref": "投诉 2026-001"},
    "/staff/consents/paper": {"kind": "person", "key": "V0001", **CONSENT},
}


# ---- helpers -----------------------------------------------------------------------------


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


def concrete(path: str, value: str = "x1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def to_login(r: httpx.Response) -> bool:
    return r.status_code == 303 and r.headers["location"].startswith("/login")


def replay(world: World, token: str) -> httpx.Client:
    """A fresh browser presenting a copied session cookie."""
    cl = world.client()
    cl.cookies.set(SESSION, token)
    return cl


def client_from(world: World, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x address is loopback)."""
    cl = httpx.Client(
        base_url=world.base, transport=httpx.HTTPTransport(local_address=address), timeout=30
    )
    world.clients.append(cl)
    return cl


def try_login(world: World, address: str, login: str, password: str) -> int:
    cl = client_from(world, address)
    return world.post(cl, "/login", {"login": login, "password": password}).status_code


def snapshot(world: World) -> dict[str, list[str]]:
    tables = [getattr(portal_tables, n) for n in ("accounts", "sessions", "login_attempts")]
    tables += [getattr(portal_tables, n) for n in ("one_time_codes", "consents", "access_log")]
    with world.store.read() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)))) for t in [*tables, history]}


def set_cookies(r: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header, attributes included)."""
    return {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}


def attributes(header: str) -> set[str]:
    """A Set-Cookie header's attributes, lowercased: {"httponly", "path=/", ...}."""
    return {a.strip().lower() for a in header.split(";")[1:]}


def assert_headers(r: httpx.Response, personal: bool) -> None:
    """ASVS 14.4: CSP without inline script and framing, nosniff, referrer, no-store."""
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in {"no-referrer", "same-origin", "strict-origin"}
    assert "strict-transport-security" not in r.headers  # plain HTTP here
    if personal:
        assert r.headers["cache-control"] == "no-store", r.url


def second_app(world: World, tmp_path: Path, **kw: Any) -> PortalApp:
    settings = Settings(
        db_url=world.store.url,
        site_dir=str(tmp_path / "no-site"),
        secret_key="other-secret-" + "y" * 40,
        outbox=str(tmp_path / "outbox"),
        **kw,
    )
    return create_app(
        settings,
        store=world.store,
        clock=world.clock,
        notifier=world.outbox,
        passwords=world.passwords,
    )


# ---- 1. deny by default (STYLE 4, ASVS 4.1.1, 4.1.3) --------------------------------------


def test_every_route_is_guarded_and_public_is_the_allowlist(sqlite_world: World) -> None:
    """STYLE 4, ASVS 4.1.3: every handler carries a guard; only the listed routes are public."""
    found = routes(sqlite_world.app)
    assert len(found) >= 30
    for method, path, endpoint in found:
        assert getattr(endpoint, "access", None) in ACCESS, (method, path)
        if endpoint.access == "staff":
            assert endpoint.roles and set(endpoint.roles) <= set(STAFF_ROLES), path
    assert {(m, p) for m, p, e in found if e.access == "public"} == PUBLIC


def test_anonymous_is_refused_on_every_non_public_route(sqlite_world: World) -> None:
    """ASVS 4.1.1: anonymous GETs are sent to /login (303); anonymous POSTs, even with a valid
    CSRF token, are refused (401/403; the second-factor step sends back to /login)."""
    anon = sqlite_world.client()
    token = csrf_of(anon)
    for method, path, endpoint in routes(sqlite_world.app):
        if endpoint.access == "public":
            continue
        if method == "GET":
            assert to_login(anon.get(concrete(path))), path
        else:
            r = anon.post(concrete(path), data={"csrftoken": token, "x": "1"})
            refused = r.status_code in (401, 403) or (
                endpoint.access == "second_factor" and to_login(r)
            )
            assert refused, (path, r.status_code)
            assert "CSRF" not in r.text, "the guard, not the CSRF check, must refuse here"


# ---- 2. CSRF on every unsafe route (ASVS 4.2.2, 13.2.3) -----------------------------------


def test_csrf_refused_on_every_post_route_and_nothing_changes(sqlite_world: World) -> None:
    """ASVS 4.2.2: no token, another browser's valid token, a multipart form without a token,
    or no cookies at all: 403 from the CSRF check, and no table changes (no consent issued,
    no session ended, no password changed)."""
    w = sqlite_world
    anon = w.client()
    anon.get("/login")
    vol = w.volunteer()
    chief = w.staff("chief", STAFF_ROLES)
    w.account("staff", "half", "工作人员half", ("auditor",))
    half = w.login("half")  # between password and TOTP
    party = {"public": anon, "subject": vol, "account": vol, "staff": chief, "second_factor": half}
    other = csrf_of(w.client())  # validly signed, but bound to another browser's cookie
    bare = httpx.Client(base_url=w.base, timeout=30)
    w.clients.append(bare)
    before = snapshot(w)
    for method, path, endpoint in routes(w.app):
        if method != "POST":
            continue
        cl, url = party[endpoint.access], concrete(path)
        data = PAYLOADS.get(url, {"note": "x"})
        attempts = {
            "no token": cl.post(url, data=data),
            "wrong token": cl.post(url, data={"csrftoken": other, **data}),
            "multipart, no token": cl.post(url, data=data, files={"scan": PDF}),
            "multipart, wrong token": cl.post(
                url, data={"csrftoken": other, **data}, files={"scan": PDF}
            ),
            "no cookies": bare.post(url, data={"csrftoken": csrf_of(cl), **data}),
        }
        for name, r in attempts.items():
            assert r.status_code == 403 and "CSRF" in r.text, (url, name, r.status_code)
    assert snapshot(w) == before
    assert vol.get("/me").status_code == 200 and chief.get("/staff").status_code == 200
    # The control: a multipart form (no file part) with the right token passes the check.
    r = w.post(vol, "/me/consents", CONSENT, files={"note": (None, "x")})
    assert r.status_code == 303, (r.status_code, r.text[:300])


# ---- 3. sessions (ASVS 3.2, 3.3, 3.4) -----------------------------------------------------


def test_session_cookie_is_worthless_after_logout_asvs_3_3_1(world: World) -> None:
    """ASVS 3.3.1: logout ends the session on the server; a copied cookie no longer works."""
    vol = world.volunteer()
    token = vol.cookies[SESSION]
    assert replay(world, token).get("/me").status_code == 200
    assert world.post(vol, "/logout").status_code == 303
    assert to_login(replay(world, token).get("/me"))


def test_password_change_ends_every_session_asvs_3_3_3(world: World) -> None:
    """ASVS 3.3.3: a new password ends all sessions of the account, other browsers included."""
    first = world.volunteer()
    second = world.login("V0001")
    tokens = [first.cookies[SESSION], second.cookies[SESSION]]
    r = world.post(
        first,
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 303, r.text
    assert to_login(second.get("/me"))
    for token in tokens:
        assert to_login(replay(world, token).get("/me"))
    assert (
        world.post(world.client(), "/login", {"login": "V0001", "password": PASSWORD}).status_code
        == 400
    )
    world.login("V0001", NEW_PASSWORD)


def test_idle_session_ends_after_30_minutes_asvs_3_3_2(world: World) -> None:
    """ASVS 3.3.2: 30 idle minutes end the session; activity within them keeps it."""
    vol = world.volunteer()
    world.clock.advance(timedelta(minutes=29))
    assert vol.get("/me").status_code == 200
    world.clock.advance(timedelta(minutes=31))
    assert to_login(vol.get("/me"))


def test_active_session_ends_after_12_hours_asvs_3_3_2(world: World) -> None:
    """ASVS 3.3.2: activity every 20 minutes keeps a session only up to 12 hours in all."""
    vol = world.volunteer()
    for _ in range(35):  # up to 11 h 40 min
        world.clock.advance(timedelta(minutes=20))
        assert vol.get("/me").status_code == 200, world.clock.now()
    world.clock.advance(timedelta(minutes=10))  # 11 h 50 min
    assert vol.get("/me").status_code == 200
    world.clock.advance(timedelta(minutes=20))  # 12 h 10 min, only 20 minutes idle
    assert to_login(vol.get("/me"))


def test_session_cookie_attributes_asvs_3_4(world: World) -> None:
    """ASVS 3.4.2, 3.4.3, 3.4.5, 3.2.2: HttpOnly, SameSite=Lax, Path=/; a random value only."""
    world.account("volunteer", "V0001", "林若溪")
    cl = world.client()
    r = world.post(cl, "/login", {"login": "V0001", "password": PASSWORD})
    assert r.status_code == 303
    header = set_cookies(r)[SESSION]
    assert {"httponly", "samesite=lax", "path=/"} <= attributes(header), header
    value = cl.cookies[SESSION]
    assert TOKEN.fullmatch(value), value
    for personal in ("V0001", "林若溪", quote("林若溪")):
        assert personal not in header


def test_secure_cookies_use_host_prefix_asvs_3_4_1(world: World, tmp_path: Path) -> None:
    """ASVS 3.4.1, 3.4.4: with secure cookies the session and CSRF cookies are Secure and
    ``__Host-`` (no Domain, Path=/)."""
    world.account("volunteer", "V0001", "林若溪")
    with serving(second_app(world, tmp_path, secure_cookies=True)) as base:
        cl = httpx.Client(base_url=base, timeout=30)
        world.clients.append(cl)
        page = cl.get("/login")
        csrf_header = set_cookies(page)["__Host-csrftoken"]
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        cl.cookies.clear()  # a Secure cookie is not sent over http: send it by hand
        r = cl.post(
            "/login",
            data={"csrftoken": token, "login": "V0001", "password": PASSWORD},
            headers={"cookie": f"__Host-csrftoken={token}"},
        )
        assert r.status_code == 303, r.text
        session = set_cookies(r)["__Host-volcredit"]
    for header in (session, csrf_header):
        assert {"secure", "path=/"} <= attributes(header), header
        assert not any(a.startswith("domain") for a in attributes(header)), header
    assert {"httponly", "samesite=lax"} <= attributes(session)
    assert TOKEN.fullmatch(session.split(";")[0].split("=", 1)[1])


# ---- 4. throttling (ASVS 2.2.1) ----------------------------------------------------------


def test_ten_failures_lock_the_account_for_five_minutes_asvs_2_2_1(world: World) -> None:
    """ASVS 2.2.1: after 10 failed tries in 5 minutes (from 10 addresses, in any spelling of
    the login) even the right password is refused (429) until the window has passed."""
    world.account("volunteer", "V0001", "林若溪")
    for i, spelling in enumerate(["V0001", "v0001", " V0001 "] * 3 + ["V0001"]):
        assert try_login(world, f"127.0.0.{i + 2}", spelling, "wrong-password-x") == 400
    assert try_login(world, "127.0.0.20", "V0001", PASSWORD) == 429
    world.clock.advance(timedelta(minutes=5))
    assert try_login(world, "127.0.0.20", "V0001", PASSWORD) == 303


def test_ten_tries_lock_the_client_address_asvs_2_2_1(world: World) -> None:
    """ASVS 2.2.1: 10 tries on different accounts from one address block that address, even
    for a real account with its right password; the account itself is not locked."""
    world.account("volunteer", "V0001", "林若溪")
    for i in range(10):
        assert try_login(world, "127.0.0.30", f"NOBODY{i}", "wrong-password-x") == 400
    assert try_login(world, "127.0.0.30", "V0001", PASSWORD) == 429
    assert try_login(world, "127.0.0.31", "V0001", PASSWORD) == 303


# ---- 5. headers and error pages (ASVS 14.4, 7.4.1; STYLE 5) -------------------------------


def test_security_headers_on_200_403_404_asvs_14_4(sqlite_world: World) -> None:
    """ASVS 14.4.1–14.4.7: the headers on pages, JSON, refusals and not-found answers."""
    anon, vol = sqlite_world.client(), sqlite_world.volunteer()
    cases = [
        (anon.get("/search?q=x"), 200, False),
        (anon.get("/api/search?q=x"), 200, False),
        (anon.get("/login"), 200, True),
        (vol.get("/me"), 200, True),
        (vol.post("/me/consents", data=CONSENT), 403, True),
        (anon.get("/no-such-page"), 404, False),
        (anon.get("/api/no-such"), 404, False),
        (anon.get("/me/no-such"), 404, True),
    ]
    for r, status, personal in cases:
        assert r.status_code == status, (r.url, r.status_code)
        assert_headers(r, personal)
    assert cases[6][0].json()["error"]


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[str]:
    """A portal whose store lost its sessions table, beside a site with one inline script."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><script>var theme = 1;</script></html>")
    store = open_store(f"sqlite:///{tmp_path / 'broken.sqlite3'}")
    with store.write() as conn:
        conn.execute(text("DROP TABLE sessions"))
    settings = Settings(
        db_url=store.url,
        site_dir=str(site),
        secret_key="z" * 48,
        outbox=str(tmp_path / "o"),
        secure_cookies=False,
    )
    try:
        with serving(create_app(settings, store=store)) as base:
            yield base
    finally:
        store.dispose()


def test_500_and_static_pages_carry_headers_and_no_details_style_5(broken: str) -> None:
    """STYLE 5, ASVS 7.4.1, 14.4: a failing store gives a plain 500 with every header and no
    traceback or SQL; the site gets the same headers, its inline script allowed by hash only."""
    for path in ("/login", "/me"):
        cl = httpx.Client(base_url=broken, cookies={SESSION: "a" * 43}, timeout=30)
        with cl:
            r = cl.get(path)
        assert r.status_code == 500, (path, r.status_code)
        assert_headers(r, personal=True)
        for detail in ("Traceback", "sqlite", "SELECT", "Error", "sessions", "token_hash"):
            assert detail not in r.text, detail
    with httpx.Client(base_url=broken, timeout=30) as cl:
        page, missing = cl.get("/"), cl.get("/no-such-page")
    assert (page.status_code, missing.status_code) == (200, 404)
    for r in (page, missing):
        assert_headers(r, personal=False)
    digest = base64.b64encode(hashlib.sha256(b"var theme = 1;").digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]


def test_hsts_only_over_https_asvs_14_4_5(sqlite_world: World) -> None:
    """ASVS 14.4.5: Strict-Transport-Security on HTTPS requests, never on plain HTTP."""

    async def fetch(base: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=sqlite_world.app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as cl:
            return await cl.get("/login")

    secure = asyncio.run(fetch("https://portal.example"))
    plain = asyncio.run(fetch("http://portal.example"))
    max_age = re.fullmatch(r"max-age=(\d+).*", secure.headers["strict-transport-security"])
    assert max_age and int(max_age.group(1)) >= 31536000
    assert "strict-transport-security" not in plain.headers


# ---- 6. generated requests never give a 500 (ASVS 7.4.1, 13.1) ---------------------------

NAMES = st.sampled_from(
    [
        "csrftoken",
        "q",
        "page",
        "before",
        "next",
        "login",
        "password",
        "current",
        "confirm",
        "code",
        "kind",
        "key",
        "ref",
        "purpose",
        "classes",
        "expires_on",
        "recipient_kind",
        "recipient_name",
        "recipient_id",
        "name",
        "secret_fact",
        "actor",
        "subject",
        "scan",
    ]
) | st.text(max_size=6)
VALUES = st.text(max_size=24) | st.sampled_from(
    ["", "0", "-1", "²", "9" * 30, "V0001", "person", "../../etc/passwd", "' OR 1=1 --", "\x00"]
)
HEADER = st.text(st.sampled_from(string.printable[:95] + "é\xff"), max_size=40)
BOUNDARY = st.text(st.sampled_from(string.ascii_letters + string.digits + "'()+_,-./:=? "))
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary={b}",
    "multipart/form-data;boundary={b}",
    'multipart/form-data; boundary="{b}"',
    "MULTIPART/FORM-DATA; boundary={b}",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "text/plain",
    "application/json",
    "",
]


def multipart(fields: list[tuple[str, str]], boundary: str, file: bytes | None) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields
    ]
    if file is not None:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="scan"; filename="s.pdf"'
        parts.append(head.encode() + b"\r\nContent-Type: application/pdf\r\n\r\n" + file + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


@st.composite
def requests(draw: st.DrawFn, templates: list[tuple[str, str | None]]) -> dict[str, Any]:
    method, template = draw(st.sampled_from(templates))
    segment = st.builds(lambda s: quote(s, safe="") or "x", st.text(max_size=12))
    if template is None:
        path = "/" + "/".join(draw(st.lists(segment, max_size=4)))
    else:
        path = re.sub(r"\{[^}]+\}", lambda _: draw(segment), template)
    return {
        "method": method,
        "path": path,
        "query": draw(st.lists(st.tuples(NAMES, VALUES), max_size=4)),
        "fields": draw(st.lists(st.tuples(NAMES, VALUES), max_size=5)),
        "token": draw(st.sampled_from(["good", "other", "none"]) | VALUES),
        "kind": draw(st.sampled_from(["form", "multipart", "raw"])),
        "boundary": draw(BOUNDARY),
        "same_boundary": draw(st.booleans()),
        "file": draw(st.none() | st.binary(max_size=64)),
        "cut": draw(st.none() | st.integers(0, 400)),
        "raw": draw(st.binary(max_size=200)),
        "content_type": draw(st.sampled_from(CONTENT_TYPES) | HEADER),
        "header_token": draw(st.none() | HEADER),
        "cookie_junk": draw(st.none() | HEADER),
    }


def body_of(req: dict[str, Any], tokens: dict[str, str]) -> bytes:
    fields = list(req["fields"])
    if req["token"] != "none":
        fields.insert(0, ("csrftoken", tokens.get(req["token"], req["token"])))
    if req["kind"] == "form":
        return urlencode(fields).encode()
    if req["kind"] == "raw":
        return bytes(req["raw"])
    body = multipart(fields, req["boundary"] if req["same_boundary"] else "x", req["file"])
    return body if req["cut"] is None else body[: req["cut"]]


def access_log_overflow(req: dict[str, Any]) -> bool:
    """The known 500 in views/me.py (outside this change): see the xfail test below."""
    return req["path"] == "/me/access-log" and any(
        k == "before" and v.isdigit() and not (v.isascii() and len(v) <= 18)
        for k, v in req["query"]
    )


def send(
    cl: httpx.Client, req: dict[str, Any], tokens: dict[str, str], session: str | None
) -> httpx.Response:
    cookie = f"csrftoken={tokens['good']}" + (f"; {SESSION}={session}" if session else "")
    headers = {"cookie": cookie + (f"; {req['cookie_junk']}" if req["cookie_junk"] else "")}
    if req["header_token"] is not None:
        headers["x-csrftoken"] = req["header_token"]
    content = None
    if req["method"] != "GET":
        headers["content-type"] = req["content_type"].format(b=req["boundary"])
        content = body_of(req, tokens)
    cl.cookies.clear()
    encoded = {k: v.strip().encode("latin-1") for k, v in headers.items()}
    try:
        return cl.request(
            req["method"], req["path"], params=req["query"], headers=encoded, content=content
        )
    except httpx.TransportError as e:  # uvicorn drops the connection after an unhandled error
        raise AssertionError(f"connection dropped ({e!r})") from None


@pytest.mark.parametrize("who", ["anonymous", "volunteer"])
def test_generated_requests_never_give_500_asvs_7_4_1(sqlite_world: World, who: str) -> None:
    """ASVS 7.4.1, 13.1.1: random paths, queries and (malformed) form bodies to every route,
    anonymous and logged in, never make the portal fail (status < 500)."""
    w = sqlite_world
    account_id = None
    if who == "volunteer":
        w.volunteer()
        with w.store.read() as conn:
            account_id = conn.execute(select(portal_tables.accounts.c.account_id)).scalar_one()
    tokens = {"good": csrf_of(w.client()), "other": csrf_of(w.client())}
    templates = [(m, p) for m, p, _ in routes(w.app)]
    templates += [(m, None) for m in ("GET", "POST", "PUT", "DELETE", "OPTIONS")]
    cl = w.client()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(requests(templates))
    def check(req: dict[str, Any]) -> None:
        assume(not access_log_overflow(req))
        with w.store.write() as conn:  # a fresh session, and the handlers past the throttle
            conn.execute(delete(portal_tables.login_attempts))
            session = account_id and sessions.start(conn, account_id, "full", w.clock.now())
        r = send(cl, req, tokens, session)
        assert r.status_code < 500 and "Traceback" not in r.text, req

    check()


@pytest.mark.xfail(strict=True, reason="views/me.py: int(before) unbounded or non-ASCII digits")
@pytest.mark.parametrize("before", ["9" * 30, "²"])
def test_access_log_before_parameter_no_500(sqlite_world: World, before: str) -> None:
    """ASVS 7.4.1: ``/me/access-log?before=`` with a huge or non-ASCII digit string."""
    vol = sqlite_world.volunteer()
    assert vol.get("/me/access-log", params={"before": before}).status_code < 500


# ---- 7. body size (ASVS 12.1.1, 13.1.3) --------------------------------------------------


def test_declared_body_over_6_mb_is_refused_413(sqlite_world: World) -> None:
    """ASVS 12.1.1: a Content-Length over 6 MB gets 413 before the body is read."""
    port = int(sqlite_world.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: portal\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
            + b"csrftoken=x"
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), status_line


def test_streamed_body_over_6_mb_is_refused_413(sqlite_world: World) -> None:
    """ASVS 12.1.1: a chunked body (no Content-Length) is cut at 6 MB with 413, not 500."""
    vol = sqlite_world.volunteer()
    token = csrf_of(vol)

    def chunks() -> Iterator[bytes]:
        yield f"csrftoken={token}&purpose=".encode()
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536

    headers = {"content-type": "application/x-www-form-urlencoded"}
    r = vol.post("/me/consents", content=chunks(), headers=headers)
    assert r.status_code == 413, r.status_code
    assert_headers(r, personal=True)
