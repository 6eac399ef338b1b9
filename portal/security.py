"""Security around every response (ASVS 14, 13): headers, a body-size cap, CSRF for plain forms,
and the error pages, which never show a traceback or SQL (STYLE 5)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from asgi_csrf import asgi_csrf
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FAILED = "表单已过期或来源不明（CSRF 校验失败）。请返回上一页，刷新后重新提交。"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
MAX_BODY_BYTES = 16 * 1024 * 1024  # three 5 MB repair materials (BJ-18) plus the form
MAX_FILES = 16  # files in one form: a case step takes at most a dozen (BJ-16b, BJ-18)
PERSONAL_PREFIXES = ("/me", "/consents", "/staff", "/account", "/login", "/activate")
_CHECKED = "portal.csrf_checked"  # scope key: a list that gets an item once the check passed

log = logging.getLogger("volcredit.portal")


def inline_script_hashes(site_dir: Path) -> list[str]:
    """CSP hashes of the theme's inline scripts (the same on every site page). The site is
    allowed exactly these scripts, never inline script in general."""
    index = site_dir / "index.html"
    if not index.is_file():
        return []
    text = index.read_text(encoding="utf-8")
    hashes = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, flags=re.S):
        if "src=" in attrs or "application/json" in attrs or not body.strip():
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return sorted(set(hashes))


def content_security_policy(script_hashes: Iterable[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds the security headers to every response, errors included."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        personal = path.startswith(PERSONAL_PREFIXES)
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {b"cache-control", b"server"} or not personal
                ]
                headers += [
                    (b"content-security-policy", self.csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if personal:
                    headers.append((b"cache-control", b"no-store"))
                if tls:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request body over ``MAX_BODY_BYTES`` (declared or streamed) with 413, and an
    address carrying a NUL character with 400 (PostgreSQL refuses NUL in text)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if b"%00" in raw or b"\x00" in raw or "\x00" in scope.get("path", ""):
            await _plain(send, 400, "地址中含有不允许的字符。")
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _plain(send, 413, "请求内容过大。")
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _plain(send, 413, "请求内容过大。")


class _TooLarge(BaseException):
    """Raised by ``receive`` past the limit. Not an ``Exception``, so that no handler on the way
    (the CSRF layer reading the form, Starlette's 500 page) answers it before BodyLimit does."""


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


class _Everywhere:
    """asgi-csrf checks requests without cookies only on listed paths; we list every path, so
    each unsafe request must carry the token from a form the portal served."""

    def __contains__(self, path: object) -> bool:
        return True


def _is_multipart(scope: Scope) -> bool:
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


class MultipartCsrf:
    """The CSRF check for multipart forms (file uploads), which asgi-csrf 0.11 cannot parse with
    current python-multipart: the body (capped by :class:`BodyLimit`) is read, its
    ``csrftoken`` field compared with the token asgi-csrf derived from the cookie, and the body
    replayed to the app. Runs inside asgi-csrf, which skips multipart requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        more = True
        while more:
            message = await receive()
            messages.append(message)
            more = message.get("more_body", False) and message["type"] == "http.request"
        body = b"".join(m.get("body", b"") for m in messages)
        expected = scope.get("csrftoken")
        token = await _multipart_token(scope, body)
        if not callable(expected) or not token or not secrets.compare_digest(token, expected()):
            await _plain(send, 403, CSRF_FAILED)
            return
        replay = iter(messages)

        async def replay_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replay_receive, send)


def _complete_multipart(scope: Scope, body: bytes) -> bool:
    """The body has its closing boundary: a truncated one is refused before parsing,
    because the parser leaves the temporary file of an unfinished file part open."""
    content_type = Headers(scope=scope).get("content-type", "")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return False
    closing = b"--" + match.group(1).encode("latin-1") + b"--"
    return closing in body


async def _multipart_token(scope: Scope, body: bytes) -> str | None:
    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    if not _complete_multipart(scope, body):
        return None
    try:
        form = await Request(scope, once).form(max_files=MAX_FILES, max_fields=1000)
    except Exception:  # a malformed body: no token
        return None
    try:
        value = form.get("csrftoken")
        return value if isinstance(value, str) else None
    finally:
        await form.close()


def csrf_cookie_name(secure: bool) -> str:
    return "__Host-csrftoken" if secure else "csrftoken"


def with_csrf(app: ASGIApp, secret: str, secure: bool) -> ASGIApp:
    """asgi-csrf (double-submit, signed token) on every unsafe method and path, multipart forms
    checked by :class:`MultipartCsrf`. A request the check cannot read (a cookie or body that
    is not UTF-8, a token that is not ASCII, a multipart type without boundary) is answered
    400, not 500. ``Authorization`` is dropped: asgi-csrf skips its check for any "Bearer"
    header, and the portal has no bearer tokens."""

    async def failed(scope: Scope, send: Send, message_id: object) -> None:
        await _plain(send, 403, CSRF_FAILED)

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        scope.get(_CHECKED, []).append(True)
        await app(scope, receive, send)

    protected = asgi_csrf(
        MultipartCsrf(checked),
        cookie_name=csrf_cookie_name(secure),
        signing_secret=secret,
        always_protect=_Everywhere(),
        cookie_secure=secure,
        cookie_samesite="Lax",
        send_csrf_failed=failed,
        skip_if_scope=_is_multipart,
    )

    async def unreadable_is_400(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await protected(scope, receive, send)
            return
        passed: list[bool] = []
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
        try:
            await protected({**scope, "headers": headers, _CHECKED: passed}, receive, send)
        except Exception:
            if passed:  # raised by the app behind the check: Starlette has answered it
                raise
            log.info("request refused: unreadable for the CSRF check", exc_info=True)
            await _plain(send, 400, "请求格式有误，无法处理。")

    return unreadable_is_400
