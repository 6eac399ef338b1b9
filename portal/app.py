"""The whole portal in one call (STYLE 3): ``create_app(settings, store=...)``."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from portal.clock import Clock, SystemClock
from portal.context import Portal
from portal.errors import http_error, server_error
from portal.notifier import Notifier, OutboxNotifier
from portal.passwords import Passwords
from portal.search import PostgresSearch, SearchBackend, WhooshSearch
from portal.security import (
    BodyLimit,
    SecurityHeaders,
    content_security_policy,
    csrf_cookie_name,
    inline_script_hashes,
    with_csrf,
)
from portal.templating import templates
from portal.views import (
    announcements,
    auth,
    cases,
    certificates,
    consent,
    identification,
    me,
    public,
    spotchecks,
    staff,
)
from volcredit.settings import DEFAULT_SECRET_KEY_FILE, Settings
from volcredit.store.engine import Store

GET, POST = ["GET"], ["POST"]


class SiteFiles(StaticFiles):
    """The built site. Before the first build there is no folder yet: every address is then a
    plain 404, not a server error."""

    async def check_config(self) -> None:
        if self.directory is not None and not os.path.isdir(self.directory):
            return
        await super().check_config()


def routes(site_dir: Path) -> list[BaseRoute]:
    return [
        Route("/search", public.search_page, methods=GET),
        Route("/api/search", public.search_api, methods=GET),
        Route("/healthz", public.health, methods=GET),
        Route("/verify", certificates.verify_form, methods=GET),
        Route("/verify/{certificate_no}", certificates.verify, methods=GET),
        Route("/login", auth.login_form, methods=GET),
        Route("/login", auth.login, methods=POST),
        Route("/login/totp", auth.totp_form, methods=GET),
        Route("/login/totp", auth.totp, methods=POST),
        Route("/logout", auth.logout, methods=POST),
        Route("/activate", auth.activate_form, methods=GET),
        Route("/activate", auth.activate, methods=POST),
        Route("/activate/confirm", auth.activate_confirm, methods=POST),
        Route("/account/password", auth.password_form, methods=GET),
        Route("/account/password", auth.change_password, methods=POST),
        Route("/me", me.overview, methods=GET),
        Route("/me/id-number", me.reveal_form, methods=GET),
        Route("/me/id-number", me.reveal_id, methods=POST),
        Route("/me/honours/{honour_id}/delete", me.request_deletion, methods=POST),
        Route("/me/access-log", me.my_access_log, methods=GET),
        Route("/me/cases/{case_id:path}/steps/{event}", cases.my_step, methods=POST),
        Route("/me/cases/{case_id:path}/documents/{seq:int}", cases.my_document, methods=GET),
        Route(
            "/me/cases/{case_id:path}/documents/{seq:int}.pdf", cases.my_document_pdf, methods=GET
        ),
        Route("/me/cases/{case_id:path}/files/{file_id}", cases.my_file, methods=GET),
        Route("/me/cases/{case_id:path}", cases.my_case, methods=GET),
        Route("/me/identification", me.request_identification, methods=POST),
        Route("/me/certificates", certificates.my_certificates, methods=GET),
        Route("/me/certificates", certificates.issue_certificate, methods=POST),
        Route("/me/certificates/{no}.pdf", certificates.download, methods=GET),
        Route("/me/consents", consent.my_consents, methods=GET),
        Route("/me/consents", consent.issue_consent, methods=POST),
        Route("/me/consents/{consent_id}", consent.consent_document, methods=GET),
        Route("/me/consents/{consent_id}/revoke", consent.revoke_consent, methods=POST),
        Route("/consents", consent.received, methods=GET),
        Route("/consents/redeem", consent.redeem, methods=POST),
        Route("/consents/{consent_id}", consent.view_under_consent, methods=GET),
        Route("/staff", staff.dashboard, methods=GET),
        Route("/staff/lookup", staff.lookup_form, methods=GET),
        Route("/staff/lookup", staff.lookup, methods=POST),
        Route("/staff/subjects/{kind}/{key}", staff.subject_record, methods=GET),
        Route("/staff/cases", staff.case_list, methods=GET),
        # A case ID may hold "/": {case_id:path}, the routes with a suffix first (the bare
        # case route would otherwise take them all).
        Route("/staff/cases/{case_id:path}/steps/{event}", cases.staff_step, methods=POST),
        Route("/staff/cases/{case_id:path}/documents/{seq:int}", cases.staff_document, methods=GET),
        Route(
            "/staff/cases/{case_id:path}/documents/{seq:int}.pdf",
            cases.staff_document_pdf,
            methods=GET,
        ),
        Route("/staff/cases/{case_id:path}/files/{file_id}", cases.staff_file, methods=GET),
        Route("/staff/cases/{case_id:path}", cases.staff_case, methods=GET),
        Route("/staff/consents/paper", staff.paper_form, methods=GET),
        Route("/staff/consents/paper", staff.record_paper, methods=POST),
        Route("/staff/consents/{consent_id}/scan", staff.consent_scan, methods=GET),
        Route("/staff/audit", staff.audit, methods=GET),
        Route("/staff/certificates", certificates.staff_lookup, methods=GET),
        Route("/staff/certificates/{no}/revoke", certificates.staff_revoke, methods=POST),
        Route("/staff/identification", identification.request_list, methods=GET),
        Route("/staff/identification/{uscc}", identification.organisation_page, methods=GET),
        Route("/staff/identification/{uscc}", identification.decide, methods=POST),
        Route("/staff/announcements", announcements.overview, methods=GET),
        Route("/staff/announcements", announcements.publish, methods=POST),
        Route("/staff/spotchecks", spotchecks.overview, methods=GET),
        Route("/staff/spotchecks", spotchecks.draw, methods=POST),
        Route(
            "/staff/spotchecks/{year}/report/{unit}.csv",
            spotchecks.report_download,
            methods=GET,
        ),
        Route("/staff/spotchecks/{year}/{uscc}", spotchecks.checklist_page, methods=GET),
        Route("/staff/spotchecks/{year}/{uscc}", spotchecks.record, methods=POST),
        # The built public site, served beside the portal (a symlink switched by each build).
        Mount("/", SiteFiles(directory=site_dir, html=True, check_dir=False), name="site"),
    ]


def secret_key(settings: Settings) -> str:
    """The CSRF signing secret: the setting, else a key file made once (0600) and shared by
    every portal process on this machine."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(DEFAULT_SECRET_KEY_FILE)
    if not path.exists():  # written whole beside it, then linked in: no reader sees it half done
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            tmp.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} 中的密钥太短或为空，请删除该文件后重新启动")
    return key


class PortalApp:
    """The Starlette app wrapped in the headers and body-size layers that must also cover its
    500 page. ``routes`` and ``state`` are the inner app's."""

    def __init__(self, inner: Starlette, csp: str) -> None:
        self.inner = inner
        self.routes = inner.routes
        self.state = inner.state
        self._asgi = SecurityHeaders(BodyLimit(inner), csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    store: Store,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    passwords: Passwords | None = None,
    search: SearchBackend | None = None,
) -> PortalApp:
    site_dir = Path(settings.site_dir)
    secure = settings.secure_cookies
    portal = Portal(
        settings=settings,
        store=store,
        site_dir=site_dir,
        clock=clock or SystemClock(),
        notifier=notifier or OutboxNotifier(Path(settings.outbox)),
        passwords=passwords or Passwords(),
        search=search or _search_backend(settings, store, site_dir),
        templates=templates(site_dir),
        session_cookie="__Host-volcredit" if secure else "volcredit",
        csrf_cookie=csrf_cookie_name(secure),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        portal.search.close()
        store.dispose()

    inner = Starlette(
        routes=routes(site_dir),
        middleware=[Middleware(with_csrf, secret=secret_key(settings), secure=secure)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    inner.state.portal = portal
    csp = content_security_policy(inline_script_hashes(site_dir))
    return PortalApp(inner, csp)


def _search_backend(settings: Settings, store: Store, site_dir: Path) -> SearchBackend:
    """The configured public search: whoosh beside the site, or the store's PostgreSQL table."""
    if settings.search == "postgresql":
        if not store.is_postgres:
            raise ValueError("VOLCREDIT_SEARCH=postgresql needs a PostgreSQL store (VOLCREDIT_DB)")
        return PostgresSearch(store)
    return WhooshSearch(site_dir)
