"""Deny by default (STYLE 4): every route handler is wrapped by one of these guards, and a test
walks the routes and fails on any handler without one.

- ``public``: anyone (BJ-14a);
- ``subject``: a logged-in volunteer or organisation (BJ-14b, BJ-14c);
- ``staff(*roles)``: a logged-in staff member holding one of ``roles`` (BJ-23, BJ-15);
- ``second_factor``: a staff member between password and TOTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.context import visitor
from portal.errors import error_page

Handler = Callable[[Request], Awaitable[Response]]


def _mark(handler: Handler, access: str, roles: tuple[str, ...] = ()) -> Handler:
    handler.access = access  # type: ignore[attr-defined]
    handler.roles = roles  # type: ignore[attr-defined]
    return handler


def _to_login(request: Request) -> Response:
    v = visitor(request)
    if v is not None and v.session.stage == "totp":
        return RedirectResponse("/login/totp", status_code=303)  # the second factor is due
    if request.method == "GET":
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return error_page(request, 401, "请先登录。")


def public(handler: Handler) -> Handler:
    return _mark(handler, "public")


def subject(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(request: Request) -> Response:
        v = visitor(request)
        if v is None or v.session.stage != "full":
            return _to_login(request)
        if v.account.is_staff:
            return error_page(request, 403, "此页面供志愿者和组织本人使用，工作人员请使用工作台。")
        return await handler(request)

    return _mark(guarded, "subject")


def staff(*roles: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            v = visitor(request)
            if v is None or v.session.stage != "full":
                return _to_login(request)
            if not v.account.is_staff or not v.account.roles & set(roles):
                return error_page(request, 403, "您的账户没有使用此功能的权限。")
            return await handler(request)

        return _mark(guarded, "staff", roles)

    return decorate


def any_account(handler: Handler) -> Handler:
    """Any fully logged-in account (its own settings, logout)."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        v = visitor(request)
        if v is None or v.session.stage != "full":
            return _to_login(request)
        return await handler(request)

    return _mark(guarded, "account")


def second_factor(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(request: Request) -> Response:
        v = visitor(request)
        if v is None or v.session.stage != "totp":
            return RedirectResponse("/login", status_code=303)
        return await handler(request)

    return _mark(guarded, "second_factor")
