"""Robustness (ASVS 7.4.1, 12.1.1): generated requests never give 500; oversized bodies get 413."""

from __future__ import annotations

import gc
import re
import socket
import string
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from portal import sessions
from portal.security import MAX_BODY_BYTES
from tests.portal.conftest import World, csrf_of
from tests.portal.security_helpers import (
    SESSION,
    assert_headers,
    routes,
    settled,
)
from volcredit.store import portal_tables as pt

FIELD_NAMES = (
    "csrftoken q page before next login password current confirm code kind key ref purpose "
    "classes expires_on recipient_kind recipient_name recipient_id name secret_fact actor subject"
)
NAMES = st.sampled_from(FIELD_NAMES.split()) | st.text(max_size=6)
VALUES = st.text(max_size=24) | st.sampled_from(
    ["", "0", "-1", "²", "9" * 30, "V0001", "person", "../../etc/passwd", "' OR 1=1 --", "\x00"]
)
HEADER = st.text(st.sampled_from(string.printable[:95] + "é\xff"), max_size=40)
BOUNDARY = st.text(st.sampled_from(string.ascii_letters + string.digits + "'()+_,-./:=? "))
TYPES_TEXT = (  # the first two fit the form and multipart bodies made below
    "application/x-www-form-urlencoded|multipart/form-data; boundary={b}|multipart/form-data;"
    'boundary={b}|multipart/form-data; boundary="{b}"|MULTIPART/FORM-DATA; boundary={b}|'
    "multipart/form-data|multipart/form-data; boundary=|text/plain|application/json|"
)
TYPES = TYPES_TEXT.split("|")
Generated = tuple[str, str, list[tuple[str, str]], dict[str, str], bytes | None]


def multipart(fields: list[tuple[str, str]], boundary: str, file: bytes | None) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields
    ]
    body = "".join(parts).encode()
    if file is not None:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="scan"; filename="s.pdf"'
        body += head.encode() + b"\r\nContent-Type: application/pdf\r\n\r\n" + file + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


@st.composite
def requests(
    draw: st.DrawFn, templates: list[tuple[str, str | None]], tokens: dict[str, str]
) -> Generated:
    """(method, path, query, headers, body); half are well-formed with the right CSRF token."""
    method, template = draw(st.sampled_from(templates))
    segment = st.builds(lambda s: quote(s, safe="") or "x", st.text(max_size=12))
    path = "/" + "/".join(draw(st.lists(segment, max_size=4)))
    path = re.sub(r"\{[^}]+\}", lambda _: draw(segment), template) if template else path
    query = draw(st.lists(st.tuples(NAMES, VALUES), max_size=4))
    sane = draw(st.booleans())
    junk = st.just("") if sane else st.just("") | HEADER
    headers = {"cookie": draw(junk), "x-csrftoken": draw(junk)}  # cookie: added to the real ones
    if method == "GET":
        return method, path, query, headers, None
    fields = draw(st.lists(st.tuples(NAMES, VALUES), max_size=5))
    token = tokens["good"] if sane else draw(st.sampled_from([tokens["other"], ""]) | VALUES)
    fields = [("csrftoken", token), *fields] if token else fields
    boundary = draw(st.text(string.ascii_letters, min_size=1) if sane else BOUNDARY)
    kind = draw(st.sampled_from([*TYPES[:2], "application/octet-stream"]))
    if kind == TYPES[0]:
        body = urlencode(fields).encode()
    elif kind == TYPES[1]:
        other = draw(st.sampled_from([boundary, "x"]))
        body = multipart(fields, boundary if sane else other, draw(st.none() | st.binary()))
        body = body if sane else body[: draw(st.integers(0, len(body)))]
    else:
        body = draw(st.binary(max_size=200))
    kind = kind if sane else draw(st.just(kind) | st.sampled_from(TYPES) | HEADER)
    return method, path, query, {**headers, "content-type": kind.replace("{b}", boundary)}, body


@pytest.mark.parametrize("who", ["anonymous", "volunteer"])
def test_generated_requests_never_give_500_asvs_7_4_1(sqlite_world: World, who: str) -> None:
    """ASVS 7.4.1, 13.1.1: random paths, queries, headers and (malformed) form bodies to every
    route, anonymous and logged in, never make the portal fail (status < 500)."""
    w = sqlite_world
    account_id = None
    if who == "volunteer":
        w.volunteer()
        with w.store.read() as conn:
            account_id = conn.execute(select(pt.accounts.c.account_id)).scalar_one()
    tokens = {"good": csrf_of(w.client()), "other": csrf_of(w.client())}
    templates = [(m, p) for m, p, _ in routes(w.app)]
    templates += [(m, None) for m in ("GET", "POST", "PUT", "DELETE", "OPTIONS")]
    cl = w.client()

    @settings(max_examples=300, deadline=None)
    @given(requests(templates, tokens))
    def check(request: Generated) -> None:
        method, path, query, headers, body = request
        with w.store.write() as conn:  # a fresh session, and the handlers past the throttle
            conn.execute(delete(pt.login_attempts))
            session = account_id and sessions.start(conn, account_id, "full", w.clock.now())
        cookie = f"csrftoken={tokens['good']}; {SESSION}={session or ''}; {headers['cookie']}"
        sent = {k: v.strip().encode("latin-1") for k, v in {**headers, "cookie": cookie}.items()}
        cl.cookies.clear()
        try:
            r = cl.request(method, path, params=query, headers=sent, content=body)
        except httpx.TransportError as e:  # uvicorn drops the connection after a crash
            raise AssertionError(f"connection dropped: {e!r}") from None
        assert settled(w, r) < 500 and "Traceback" not in r.text

    check()
    gc.collect()  # an upload left open anywhere would surface here as a ResourceWarning


@pytest.mark.parametrize("before", ["9" * 30, "²", "-1", "abc"])
def test_access_log_before_parameter_no_500(sqlite_world: World, before: str) -> None:
    """ASVS 7.4.1: ``/me/access-log?before=`` with a huge, non-ASCII or non-numeric value shows
    the first page instead of failing."""
    vol = sqlite_world.volunteer()
    r = vol.get("/me/access-log", params={"before": before})
    assert settled(sqlite_world, r) == 200 and "谁查看过我的信息" in r.text


def test_declared_body_over_the_limit_is_refused_413(sqlite_world: World) -> None:
    """ASVS 12.1.1: an oversized Content-Length gets 413 before the body is read."""
    port = int(sqlite_world.base.rsplit(":", 1)[1])
    head = "POST /login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{head}\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\ncsrftoken=x".encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), status_line


def test_streamed_body_over_the_limit_is_refused_413(sqlite_world: World) -> None:
    """ASVS 12.1.1: a chunked body (no Content-Length) is cut at the limit with 413, not 500."""
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
