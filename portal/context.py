"""What the portal's handlers share: the store, the clock, settings, and the logged-in account.

``Portal`` is built once by ``create_app`` and kept on ``app.state.portal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from portal.accounts import Account
from portal.clock import Clock, today_in_beijing
from portal.notifier import Notifier
from portal.passwords import Passwords
from portal.search import SearchBackend
from portal.sessions import Session, resolve_with_account, touch
from volcredit.held import Subject, find_subject
from volcredit.settings import Settings
from volcredit.store.engine import Store


@dataclass
class Portal:
    settings: Settings
    store: Store
    site_dir: Path
    clock: Clock
    notifier: Notifier
    passwords: Passwords
    search: SearchBackend
    templates: Jinja2Templates
    session_cookie: str
    csrf_cookie: str

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today_in_beijing(self.clock.now())


def portal_of(request: Request) -> Portal:
    return request.app.state.portal  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Visitor:
    """The account behind the request's session cookie, and that session."""

    account: Account
    session: Session


def visitor(request: Request) -> Visitor | None:
    """The live session's account, or None (resolved once per request)."""
    if hasattr(request.state, "visitor"):
        return request.state.visitor  # type: ignore[no-any-return]
    portal = portal_of(request)
    token = request.cookies.get(portal.session_cookie)
    found: Visitor | None = None
    if token and len(token) < 100:
        now = portal.now()
        with portal.store.read() as conn:
            live = resolve_with_account(conn, token, now)
        if live is not None:
            session, account, due = live
            if due:
                with portal.store.write() as conn:
                    touch(conn, session.token_hash, now)
            found = Visitor(account, session)
    request.state.visitor = found
    return found


def signed_in(request: Request) -> tuple[Portal, Visitor]:
    """The portal and the visitor, inside a handler that a guard has let through."""
    v = visitor(request)
    assert v is not None, "a guard lets only logged-in visitors reach this handler"
    return portal_of(request), v


def own_subject(request: Request) -> Subject | None:
    """The register entry behind the logged-in subject's account (None if it is gone)."""
    portal, v = signed_in(request)
    if v.account.own is None:
        return None
    with portal.store.read() as conn:
        return find_subject(conn, *v.account.own)
