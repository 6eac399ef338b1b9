"""Login, second factor, logout, activation with a one-time code, password change (ASVS 2, 3)."""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from portal import accounts, sessions, throttle
from portal.context import Portal, portal_of, signed_in, visitor
from portal.forms import field, form_of, render, safe_next, see_other
from portal.guards import any_account, public, second_factor
from portal.passwords import password_problem
from volcredit.held import find_subject

GENERIC_LOGIN_ERROR = "账号或密码不正确。"
TOO_MANY = "尝试次数过多，请 5 分钟后再试。"
ACTIVATION_SENT = (
    "如果您填写的信息与登记信息一致，验证码已发送到登记的手机号码，10 分钟内有效。"
    "若未收到，请核对信息，或联系登记您信息的志愿服务组织。"
)


def _set_session(portal: Portal, response: Response, token: str) -> Response:
    response.set_cookie(
        portal.session_cookie,
        token,
        max_age=int(sessions.ABSOLUTE_TIMEOUT.total_seconds()),
        path="/",
        secure=portal.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def _home_for(account: accounts.Account) -> str:
    return "/staff" if account.is_staff else "/me"


@public
async def login_form(request: Request) -> Response:
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next"), "")})


@public
async def login(request: Request) -> Response:
    portal = portal_of(request)
    form = await form_of(request)
    login_id, password = field(form, "login").strip(), field(form, "password")
    target = safe_next(field(form, "next"), "")
    now = portal.now()
    keys = throttle.throttle_keys(login_id, client_address(request))
    with portal.store.write() as conn:
        if throttle.blocked(conn, keys, now):
            return render(
                request,
                "login.html",
                {"message": TOO_MANY, "next": target},
                status_code=429,
            )
        throttle.record_try(conn, keys, now)
        account = accounts.by_login(conn, login_id) if login_id else None
    stored = account.password_hash if account else None
    if not await portal.passwords.check(stored, password) or account is None:
        return render(
            request,
            "login.html",
            {"message": GENERIC_LOGIN_ERROR, "values": {"login": login_id}, "next": target},
            status_code=400,
        )
    stage = "totp" if account.is_staff else "full"
    with portal.store.write() as conn:
        old = visitor(request)
        if old is not None:
            sessions.revoke(conn, old.session.token_hash, now)
        token = sessions.start(conn, account.account_id, stage, now)
    destination = "/login/totp" if stage == "totp" else (target or _home_for(account))
    return _set_session(portal, see_other(destination), token)


@second_factor
async def totp_form(request: Request) -> Response:
    return render(request, "totp.html", {})


@second_factor
async def totp(request: Request) -> Response:
    portal, v = signed_in(request)
    form = await form_of(request)
    now = portal.now()
    keys = throttle.throttle_keys(v.account.login, client_address(request))
    with portal.store.write() as conn:
        if throttle.blocked(conn, keys, now):
            return render(request, "totp.html", {"message": TOO_MANY}, 429)
        throttle.record_try(conn, keys, now)
        ok = accounts.check_totp(conn, v.account, field(form, "code"), now)
        if ok:
            sessions.revoke(conn, v.session.token_hash, now)
            token = sessions.start(conn, v.account.account_id, "full", now)
    if not ok:
        return render(request, "totp.html", {"message": "动态验证码不正确或已使用。"}, 400)
    return _set_session(portal, see_other("/staff"), token)


@any_account
async def logout(request: Request) -> Response:
    portal, v = signed_in(request)
    with portal.store.write() as conn:
        sessions.revoke(conn, v.session.token_hash, portal.now())
    response = see_other("/login?out=1")
    response.delete_cookie(portal.session_cookie, path="/", secure=portal.settings.secure_cookies)
    return response


_KINDS = {"volunteer": "志愿者编号", "organisation": "统一社会信用代码"}


@public
async def activate_form(request: Request) -> Response:
    kind = request.query_params.get("kind", "volunteer")
    return render(request, "activate.html", {"kind": kind if kind in _KINDS else "volunteer"})


@public
async def activate(request: Request) -> Response:
    """Step 1: the claim; a code goes to the registered phone if (and only if) it matches."""
    portal = portal_of(request)
    form = await form_of(request)
    claim = accounts.Claim(
        field(form, "kind"),
        field(form, "login").strip().upper(),
        field(form, "name").strip(),
        field(form, "secret_fact").strip(),
    )
    errors = {k: "请填写此项" for k in ("login", "name", "secret_fact") if not field(form, k)}
    if claim.kind not in _KINDS:
        errors["kind"] = "请选择账户类型"
    values = {k: field(form, k) for k in ("login", "name")}
    if errors:
        return render(
            request, "activate.html", {"kind": claim.kind, "errors": errors, "values": values}, 400
        )
    now = portal.now()
    keys = throttle.throttle_keys(claim.login, client_address(request))
    with portal.store.write() as conn:
        if throttle.blocked(conn, keys, now):
            return render(
                request,
                "activate.html",
                {"kind": claim.kind, "message": TOO_MANY},
                429,
            )
        throttle.record_try(conn, keys, now)
        match = accounts.match_claim(conn, claim)
        code = accounts.issue_code(conn, claim.kind, claim.login, now) if match else None
    if match and code:
        portal.notifier.send(
            match[1],
            "志愿服务信用信息平台验证码",
            f"您的验证码是 {code}，10 分钟内有效。请勿告诉他人。",
            now,
        )
    return render(
        request,
        "activate_confirm.html",
        {"kind": claim.kind, "message": ACTIVATION_SENT, "values": {"login": claim.login}},
    )


@public
async def activate_confirm(request: Request) -> Response:
    """Step 2: the code and a new password; creates the account or resets its password."""
    portal = portal_of(request)
    form = await form_of(request)
    kind, login_id = field(form, "kind"), field(form, "login").strip().upper()
    password, confirm = field(form, "password"), field(form, "confirm")
    values = {"login": login_id}
    with portal.store.read() as conn:
        subject = _subject_row(conn, kind, login_id)
    personal = [login_id, *(subject or ())]
    problem = password_problem(password, confirm, personal)
    if problem:
        return render(
            request,
            "activate_confirm.html",
            {"kind": kind, "errors": {"password": problem}, "values": values},
            400,
        )
    now = portal.now()
    hashed = await run_in_threadpool(portal.passwords.hash, password)
    with portal.store.write() as conn:
        ok = subject is not None and accounts.use_code(
            conn, kind, login_id, field(form, "code"), now
        )
        if ok and subject is not None:
            existing = accounts.by_login(conn, login_id)
            if existing is None:
                accounts.create(
                    conn,
                    kind=kind,
                    login=login_id,
                    subject=login_id,
                    display_name=subject[0],
                    password_hash=hashed,
                    now=now,
                )
            else:
                accounts.set_password(conn, existing.account_id, hashed, now)
                sessions.revoke_all(conn, existing.account_id, now)
    if not ok:
        return render(
            request,
            "activate_confirm.html",
            {
                "kind": kind,
                "errors": {"code": "验证码不正确或已失效，请重新获取。"},
                "values": values,
            },
            400,
        )
    return see_other("/login?activated=1")


def _subject_row(conn: Connection, kind: str, login_id: str) -> tuple[str, ...] | None:
    found = find_subject(conn, accounts.KIND_SUBJECT.get(kind, ""), login_id)
    return None if found is None else (found.name,)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


async def password_again(request: Request, password: str) -> str | None:
    """Check the logged-in account's password once more (a step-up), under the same throttle as
    login; returns the problem for the form, or None."""
    portal, v = signed_in(request)
    keys = throttle.throttle_keys(v.account.login, client_address(request))
    with portal.store.write() as conn:
        if not throttle.allow_try(conn, keys, portal.now()):
            return TOO_MANY
    if not await portal.passwords.check(v.account.password_hash, password):
        return "密码不正确"
    return None


@any_account
async def password_form(request: Request) -> Response:
    return render(request, "password.html", {})


@any_account
async def change_password(request: Request) -> Response:
    """A new password ends every session of the account, this one included (ASVS 3.3)."""
    portal, v = signed_in(request)
    form = await form_of(request)
    wrong = await password_again(request, field(form, "current"))
    if wrong:
        return render(request, "password.html", {"errors": {"current": wrong}}, 400)
    problem = password_problem(
        field(form, "password"), field(form, "confirm"), [v.account.login, v.account.display_name]
    )
    if problem:
        return render(request, "password.html", {"errors": {"password": problem}}, 400)
    now = portal.now()
    hashed = await run_in_threadpool(portal.passwords.hash, field(form, "password"))
    with portal.store.write() as conn:
        accounts.set_password(conn, v.account.account_id, hashed, now)
        sessions.revoke_all(conn, v.account.account_id, now)
    response = see_other("/login?changed=1")
    response.delete_cookie(portal.session_cookie, path="/", secure=portal.settings.secure_cookies)
    return response
