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

from portal.context import Visitor, visitor
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


def _guarded(
    handler: Handler,
    access: str,
    refuse: Callable[[Request, Visitor], Response | None],
    roles: tuple[str, ...] = (),
    stage: str = "full",
) -> Handler:
    """``handler`` behind a login check (the session at ``stage``) and ``refuse``, which returns
    a response for a visitor who may not use it, or None."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        v = visitor(request)
        if v is None or v.session.stage != stage:
            if stage == "totp":
                return RedirectResponse("/login", status_code=303)
            return _to_login(request)
        refused = refuse(request, v)
        return refused if refused is not None else await handler(request)

    return _mark(guarded, access, roles)


def subject(handler: Handler) -> Handler:
    def refuse(request: Request, v: Visitor) -> Response | None:
        if v.account.is_staff:
            return error_page(request, 403, "此页面供志愿者和组织本人使用，工作人员请使用工作台。")
        return None

    return _guarded(handler, "subject", refuse)


def staff(*roles: str) -> Callable[[Handler], Handler]:
    def refuse(request: Request, v: Visitor) -> Response | None:
        if not v.account.is_staff or not v.account.roles & set(roles):
            return error_page(request, 403, "您的账户没有使用此功能的权限。")
        return None

    return lambda handler: _guarded(handler, "staff", refuse, roles)


def _nobody_refused(request: Request, v: Visitor) -> None:
    return None


def any_account(handler: Handler) -> Handler:
    """Any fully logged-in account (its own settings, logout)."""
    return _guarded(handler, "account", _nobody_refused)


def second_factor(handler: Handler) -> Handler:
    """A staff member between the password and the TOTP code."""
    return _guarded(handler, "second_factor", _nobody_refused, stage="totp")
