"""Running the portal and creating staff accounts, for the CLI (``serve``, ``staff-add``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import uvicorn

from portal import accounts
from portal.app import secret_key
from portal.passwords import Passwords, password_problem
from volcredit.settings import load_settings
from volcredit.store.engine import open_store


def run_server(host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
    """uvicorn with ``workers`` processes, each building the app from the environment. The CSRF
    secret is settled first, before the workers start."""
    secret_key(load_settings())
    uvicorn.run(
        "portal.asgi:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=forwarded_allow_ips or None,
        log_level="warning",
        server_header=False,
    )


def create_staff(
    db: str,
    username: str,
    name: str,
    roles: list[str],
    password: str,
    totp_secret: str | None = None,
) -> tuple[str, str]:
    """Create a staff account; returns the TOTP secret and its provisioning URI."""
    problem = password_problem(password, password, [username, name])
    if problem:
        raise ValueError(problem)
    secret = totp_secret or pyotp.random_base32()
    store = open_store(db)
    try:
        hashed = Passwords().hash(password)
        with store.write() as conn:
            if accounts.by_login(conn, username) is not None:
                raise ValueError(f"用户名已存在：{username}")
            accounts.create(
                conn,
                kind="staff",
                login=username,
                subject=None,
                display_name=name,
                password_hash=hashed,
                now=datetime.now(UTC).replace(tzinfo=None),
                roles=tuple(roles),
                totp_secret=secret,
            )
    finally:
        store.dispose()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="volcredit")
    return secret, uri


def staff_exists(db: str, username: str) -> bool:
    store = open_store(db)
    try:
        with store.read() as conn:
            return accounts.by_login(conn, username) is not None
    finally:
        store.dispose()
