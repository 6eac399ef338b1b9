"""Security tests over real HTTP (ASVS 2.2, 3, 4, 7.4, 12.1, 13, 14.4; STYLE 4, STYLE 5): deny
by default, CSRF on every unsafe route, server-side sessions, login throttling, security headers
on every answer, no 500 for any generated request, and the request-body cap."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text

from portal.app import create_app
from tests.portal.conftest import PASSWORD, World, csrf_of
from tests.portal.security_helpers import (
    ACCESS,
    CONSENT,
    NEW_PASSWORD,
    PAYLOADS,
    PDF,
    PUBLIC,
    SESSION,
    TOKEN,
    assert_headers,
    concrete,
    portal_settings,
    replay,
    routes,
    set_cookies,
    snapshot,
    to_login,
    try_login,
)
from tests.portal.server import serving
from volcredit.rules.access import STAFF_ROLES
from volcredit.store.engine import open_store


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
    """ASVS 4.1.1: anonymous GETs go to /login (303); anonymous POSTs, even with a valid CSRF
    token, are refused by the guard (401/403; the second-factor step sends back to /login)."""
    anon = sqlite_world.client()
    token = csrf_of(anon)
    for method, path, endpoint in routes(sqlite_world.app):
        if endpoint.access == "public":
            continue
        if method == "GET":
            assert to_login(anon.get(concrete(path))), path
            continue
        r = anon.post(concrete(path), data={"csrftoken": token, "x": "1"})
        second = endpoint.access == "second_factor" and to_login(r)
        assert r.status_code in (401, 403) or second, (path, r.status_code)
        assert "CSRF" not in r.text, "the guard, not the CSRF check, must refuse here"


def test_csrf_refused_on_every_post_route_and_nothing_changes(sqlite_world: World) -> None:
    """ASVS 4.2.2, 13.2.3: no token, another browser's valid token, multipart without a token,
    no cookies at all, or a bearer header (asgi-csrf's exemption): 403 from the CSRF check,
    and the store is unchanged (no consent, no session ended, no password changed, no login)."""
    w = sqlite_world
    anon = w.client()
    anon.get("/login")
    vol, chief = w.volunteer(), w.staff("chief", STAFF_ROLES)
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
        wrong = {"csrftoken": other, **data}
        attempts = {
            "no token": cl.post(url, data=data),
            "wrong token": cl.post(url, data=wrong),
            "multipart, no token": cl.post(url, data=data, files={"scan": PDF}),
            "multipart, wrong token": cl.post(url, data=wrong, files={"scan": PDF}),
            "no cookies": bare.post(url, data={"csrftoken": csrf_of(cl), **data}),
            "bearer header": cl.post(url, data=data, headers={"authorization": "Bearer x"}),
        }
        for name, r in attempts.items():
            assert r.status_code == 403 and "CSRF" in r.text, (url, name, r.status_code)
    assert snapshot(w) == before
    assert vol.get("/me").status_code == 200 and chief.get("/staff").status_code == 200
    # The control: the same multipart form with the right token passes the check.
    r = w.post(vol, "/me/consents", CONSENT, files={"note": (None, "x")})
    assert r.status_code == 303, (r.status_code, r.text[:300])


def test_truncated_multipart_body_is_refused_cleanly_asvs_13_2_3(sqlite_world: World) -> None:
    """ASVS 13.2.3: a multipart body cut off inside a file part (no closing boundary) is refused
    by the CSRF check with 403, leaving no temporary file open (warnings are errors here)."""
    w = sqlite_world
    vol = w.volunteer()
    token = csrf_of(vol)
    boundary = "vcboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="scan"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4 truncated"
    ).encode()
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    before = snapshot(w)
    for _ in range(5):
        r = vol.post("/me/consents", content=head, headers=headers)
        assert r.status_code == 403 and "CSRF" in r.text
    complete = head + f"\r\n--{boundary}--\r\n".encode()
    r = vol.post("/me/consents", content=complete, headers=headers)
    assert r.status_code != 403 or "CSRF" not in r.text  # the same body, complete, passes the check
    assert snapshot(w) == before


def test_session_cookie_is_worthless_after_logout_asvs_3_3_1(world: World) -> None:
    """ASVS 3.3.1: logout ends the session on the server; a copied cookie no longer works."""
    vol = world.volunteer()
    token = vol.cookies[SESSION]
    assert replay(world, token).get("/me").status_code == 200
    assert world.post(vol, "/logout").status_code == 303
    assert to_login(replay(world, token).get("/me"))


def test_password_change_ends_every_session_asvs_3_3_3(world: World) -> None:
    """ASVS 3.3.3: a new password ends all sessions of the account, other browsers included."""
    first, second = world.volunteer(), world.login("V0001")
    tokens = [first.cookies[SESSION], second.cookies[SESSION]]
    change = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert world.post(first, "/account/password", change).status_code == 303
    assert to_login(second.get("/me"))
    assert all(to_login(replay(world, t).get("/me")) for t in tokens)
    old = {"login": "V0001", "password": PASSWORD}
    assert world.post(world.client(), "/login", old).status_code == 400
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
    for minutes in [20] * 35 + [10]:  # up to 11 h 50 min
        world.clock.advance(timedelta(minutes=minutes))
        assert vol.get("/me").status_code == 200, world.clock.now()
    world.clock.advance(timedelta(minutes=20))  # 12 h 10 min in all, 20 minutes idle
    assert to_login(vol.get("/me"))


def test_session_cookie_attributes_asvs_3_4(world: World) -> None:
    """ASVS 3.4.2, 3.4.3, 3.2.2: HttpOnly, SameSite=Lax, Path=/; a random token, no personal
    data (not the volunteer number, not the name)."""
    world.account("volunteer", "V0001", "林若溪")
    r = world.post(world.client(), "/login", {"login": "V0001", "password": PASSWORD})
    assert r.status_code == 303
    cookie = set_cookies(r)[SESSION]
    assert {"httponly", "samesite=lax", "path=/"} <= cookie, cookie
    (pair,) = [a for a in cookie if a.startswith(f"{SESSION}=")]
    assert TOKEN.fullmatch(pair.split("=", 1)[1]), pair
    assert not any(p in pair for p in ("V0001", "林若溪", quote("林若溪"), "v0001"))


def test_secure_cookies_use_host_prefix_asvs_3_4_1(world: World, tmp_path: Path) -> None:
    """ASVS 3.4.1, 3.4.4: with secure cookies on, the session and CSRF cookies are Secure and
    ``__Host-`` (Path=/, no Domain)."""
    world.account("volunteer", "V0001", "林若溪")
    settings = portal_settings(tmp_path, world.store.url, secure_cookies=True)
    kw = {"clock": world.clock, "notifier": world.outbox, "passwords": world.passwords}
    with serving(create_app(settings, store=world.store, **kw)) as base:
        cl = httpx.Client(base_url=base, timeout=30)
        world.clients.append(cl)
        page = cl.get("/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        cl.cookies.clear()  # httpx keeps Secure cookies off plain http: send it by hand
        form = {"csrftoken": token, "login": "V0001", "password": PASSWORD}
        r = cl.post("/login", data=form, headers={"cookie": f"__Host-csrftoken={token}"})
    assert r.status_code == 303, r.text
    session, csrf = set_cookies(r)["__Host-volcredit"], set_cookies(page)["__Host-csrftoken"]
    for cookie in (session, csrf):
        assert {"secure", "path=/"} <= cookie and not any(a.startswith("domain") for a in cookie)
    assert {"httponly", "samesite=lax"} <= session


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
    for a real account and its right password; the account itself is not locked."""
    world.account("volunteer", "V0001", "林若溪")
    for i in range(10):
        assert try_login(world, "127.0.0.30", f"NOBODY{i}", "wrong-password-x") == 400
    assert try_login(world, "127.0.0.30", "V0001", PASSWORD) == 429
    assert try_login(world, "127.0.0.31", "V0001", PASSWORD) == 303


def test_security_headers_on_200_403_404_asvs_14_4(sqlite_world: World) -> None:
    """ASVS 14.4.1–14.4.7: the headers on pages, JSON, CSRF refusals and not-found answers."""
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
    settings = portal_settings(tmp_path, store.url, secure_cookies=False)
    try:
        with serving(create_app(settings, store=store)) as base:
            yield base
    finally:
        store.dispose()


def test_500_and_site_pages_have_headers_and_no_details_style_5(broken: str) -> None:
    """STYLE 5, ASVS 7.4.1, 14.4: a failing store gives a 500 with every header and no traceback
    or SQL; the site gets the same headers, its inline script allowed by hash only."""
    for path in ("/login", "/me"):
        with httpx.Client(base_url=broken, cookies={SESSION: "a" * 43}, timeout=30) as cl:
            r = cl.get(path)
        assert r.status_code == 500, (path, r.status_code)
        assert_headers(r, personal=True)
        for detail in ("Traceback", "sqlite", "SELECT", "Error", "sessions", "token_hash"):
            assert detail not in r.text, detail
    with httpx.Client(base_url=broken, timeout=30) as cl:
        page, missing = cl.get("/"), cl.get("/no-such-page")
    assert (page.status_code, missing.status_code) == (200, 404)
    assert_headers(page, personal=False)
    assert_headers(missing, personal=False)
    digest = base64.b64encode(hashlib.sha256(b"var theme = 1;").digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]


def test_hsts_only_over_https_asvs_14_4_5(sqlite_world: World) -> None:
    """ASVS 14.4.5: Strict-Transport-Security on HTTPS requests, never on plain HTTP."""

    async def fetch(base: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=sqlite_world.app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as cl:
            return await cl.get("/login")

    secure = asyncio.run(fetch("https://portal.example"))
    assert "strict-transport-security" not in asyncio.run(fetch("http://portal.example")).headers
    max_age = re.fullmatch(r"max-age=(\d+).*", secure.headers["strict-transport-security"])
    assert max_age and int(max_age.group(1)) >= 31536000


def test_nul_characters_and_huge_numbers_are_refused_not_500(world: World) -> None:
    """ASVS 5.1.3, 7.4.1 on both stores (PostgreSQL refuses NUL in text and INTEGER overflow):
    a NUL in a form field, a path or a query, and an out-of-range page number, never give 500."""
    anon = world.client()
    r = world.post(anon, "/login", {"login": "V0001\x00", "password": PASSWORD})
    assert r.status_code == 400 and "账号或密码不正确" in r.text
    vol = world.volunteer()
    for path in ("/me/consents/%00", "/consents/x%00y", "/search?q=%00"):
        assert vol.get(path).status_code == 400, path
    r = world.post(vol, "/consents/redeem", {"code": "\x00"})
    assert r.status_code == 400
    page = vol.get("/me/access-log", params={"before": str(2**31)})
    assert page.status_code == 200


def test_password_step_up_is_throttled_asvs_2_2_1(world: World) -> None:
    """ASVS 2.2.1: re-entering the password (full ID number, password change) counts against
    the same 10 tries in 5 minutes as login, so a stolen session cannot guess the password."""
    vol = world.volunteer()  # the login itself was one try
    for _ in range(9):
        wrong = world.post(vol, "/me/id-number", {"password": "wrong-guess-0000-aaaa"})
        assert wrong.status_code == 400 and "密码不正确" in wrong.text
    blocked = world.post(vol, "/me/id-number", {"password": PASSWORD})
    assert blocked.status_code == 400 and "尝试次数过多" in blocked.text
    world.clock.advance(timedelta(minutes=5))
    vol = world.login("V0001")
    assert world.post(vol, "/me/id-number", {"password": PASSWORD}).status_code == 200
