"""Small helpers for plain HTML forms: reading fields, the CSRF token, safe redirects."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.context import portal_of, visitor

MAX_FIELD = 2000
MAX_SEQ = 2**31 - 1  # an INTEGER column on PostgreSQL


def field(form: FormData, name: str) -> str:
    """A form field's text; a value with a NUL character counts as not given (no store keeps
    NUL in text, PostgreSQL refuses it)."""
    value = form.get(name)
    if not isinstance(value, str) or "\x00" in value:
        return ""
    return value[:MAX_FIELD]


async def form_of(request: Request) -> FormData:
    """A submitted form without files (a file part is refused with 400, and so never left
    open); the paper-consent upload reads its form itself."""
    return await request.form(max_files=0)


def before_param(request: Request) -> int | None:
    """A ``?before=`` sequence number for paging back, or None if absent or not a number."""
    raw = request.query_params.get("before", "")
    if raw.isascii() and raw.isdigit() and int(raw) <= MAX_SEQ:
        return int(raw)
    return None


def csrf_token(request: Request) -> str:
    get = request.scope.get("csrftoken")
    return get() if callable(get) else ""


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A portal page with what every page needs: the account, the CSRF token, the time."""
    portal = portal_of(request)
    v = visitor(request)
    base = {
        "account": v.account if v and v.session.stage == "full" else None,
        "csrf": csrf_token(request),
        "now": portal.now(),
        "errors": {},
        "values": {},
    }
    return portal.templates.TemplateResponse(
        request, f"portal/{name}", {**base, **context}, status_code=status_code
    )
