"""Accounts: activation by volunteers and organisations with a one-time code, staff accounts
with roles and a TOTP second factor (issue 4, ASVS 2)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import Connection, bindparam, insert, select, update

from volcredit.rules.access import STAFF_ROLES, Identity, same_identifier
from volcredit.store.portal_tables import accounts, one_time_codes
from volcredit.store.schema import content_tables

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
KIND_SUBJECT = {"volunteer": "person", "organisation": "organisation"}
KIND_LABELS = {"volunteer": "志愿者", "organisation": "组织", "staff": "工作人员"}
ROLE_LABELS = {
    "records_officer": "记录管理员",
    "case_officer": "案件承办人",
    "auditor": "审计员",
    "registry_officer": "组织认定与公告",
    "inspector": "抽查人员",
}


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: str  # volunteer | organisation | staff
    login: str
    subject: str | None
    display_name: str
    roles: frozenset[str]
    password_hash: str
    totp_secret: str | None
    totp_last_step: int | None

    @property
    def subject_kind(self) -> str | None:
        """person | organisation for a subject's account, None for staff."""
        return KIND_SUBJECT.get(self.kind)

    @property
    def own(self) -> tuple[str, str] | None:
        if self.subject_kind is None or self.subject is None:
            return None
        return self.subject_kind, self.subject

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def account_from_row(row: Any) -> Account:
    """An :class:`Account` from a row holding the ``accounts`` columns."""
    m = row._mapping
    return Account(
        m["account_id"],
        m["kind"],
        m["login"],
        m["subject"],
        m["display_name"],
        frozenset(r for r in m["roles"].split(",") if r),
        m["password_hash"],
        m["totp_secret"],
        m["totp_last_step"],
    )


def by_login(conn: Connection, login: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.login == login.strip().upper())).first()
    return None if row is None else account_from_row(row)


_BY_ID = select(accounts).where(accounts.c.account_id == bindparam("id"))  # every request


def by_id(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(_BY_ID, {"id": account_id}).first()
    return None if row is None else account_from_row(row)


def create(
    conn: Connection,
    *,
    kind: str,
    login: str,
    subject: str | None,
    display_name: str,
    password_hash: str,
    now: datetime,
    roles: tuple[str, ...] = (),
    totp_secret: str | None = None,
) -> Account:
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise ValueError(f"未知角色：{'、'.join(sorted(unknown))}")
    account_id = secrets.token_hex(16)
    conn.execute(
        insert(accounts).values(
            account_id=account_id,
            kind=kind,
            login=login.strip().upper(),
            subject=subject,
            display_name=display_name[:200],
            roles=",".join(roles),
            password_hash=password_hash,
            totp_secret=totp_secret,
            totp_last_step=None,
            created_at=now,
            password_changed_at=now,
        )
    )
    account = by_id(conn, account_id)
    assert account is not None
    return account


def set_password(conn: Connection, account_id: str, password_hash: str, now: datetime) -> None:
    conn.execute(
        update(accounts)
        .where(accounts.c.account_id == account_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )


def check_totp(conn: Connection, account: Account, code: str, now: datetime) -> bool:
    """A TOTP code for ``now`` (±30 s), each time step accepted once (no replay)."""
    if not account.totp_secret:
        return False
    totp = pyotp.TOTP(account.totp_secret)
    code = code.strip()
    for offset in (-1, 0, 1):
        step = int(now.timestamp()) // totp.interval + offset
        if account.totp_last_step is not None and step <= account.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            conn.execute(
                update(accounts)
                .where(accounts.c.account_id == account.account_id)
                .values(totp_last_step=step)
            )
            return True
    return False


# --- the subject behind an account --------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a person types to activate: the account kind, the identifier and two facts."""

    kind: str  # volunteer | organisation
    login: str  # volunteer number or USCC
    name: str
    secret_fact: str  # ID number (volunteer) or legal representative's name (organisation)


def match_claim(conn: Connection, claim: Claim) -> tuple[str, str] | None:
    """``(display name, phone)`` if the claim matches the register exactly, else None."""
    if claim.kind == "volunteer":
        v = content_tables["volunteers"]
        row = conn.execute(
            select(v.c.name, v.c.id_number, v.c.phone).where(v.c.volunteer_no == claim.login)
        ).first()
        ok = row is not None and same_identifier(row.id_number or "", claim.secret_fact)
    elif claim.kind == "organisation":
        o = content_tables["organisations"]
        row = conn.execute(
            select(o.c.name, o.c.legal_representative, o.c.contact_phone.label("phone")).where(
                o.c.uscc == claim.login.upper()
            )
        ).first()
        ok = row is not None and (row.legal_representative or "").strip() == claim.secret_fact
    else:
        return None
    if not ok or row is None or row.name.strip() != claim.name.strip() or not row.phone:
        return None
    return row.name, row.phone


def identity(conn: Connection, account: Account) -> Identity | None:
    """Who the account holder is, for matching a consent's named recipient (BJ-14c)."""
    if account.kind == "volunteer" and account.subject:
        v = content_tables["volunteers"]
        number = conn.execute(
            select(v.c.id_number).where(v.c.volunteer_no == account.subject)
        ).scalar_one_or_none()
        return Identity("person", number) if number else None
    if account.kind == "organisation" and account.subject:
        return Identity("organisation", account.subject)
    return None


# --- one-time codes -----------------------------------------------------------------------


def _code_hash(kind: str, login: str, code: str) -> str:
    """A code is bound to the account kind and login it was sent for."""
    return hashlib.sha256(f"{kind}:{login.upper()}:{code}".encode()).hexdigest()


def issue_code(conn: Connection, kind: str, login: str, now: datetime) -> str:
    """A six-digit code for ``login``, valid 10 minutes; earlier codes stop working."""
    login = login.strip().upper()
    conn.execute(
        update(one_time_codes)
        .where(one_time_codes.c.login == login, one_time_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    conn.execute(
        insert(one_time_codes).values(
            login=login,
            code_hash=_code_hash(kind, login, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            attempts=0,
            used_at=None,
        )
    )
    return code


def use_code(conn: Connection, kind: str, login: str, code: str, now: datetime) -> bool:
    """True once for the right, unexpired code; five tries spend it. The try is counted by one
    conditional UPDATE, so parallel guesses cannot exceed five."""
    login = login.strip().upper()
    row = conn.execute(
        select(one_time_codes)
        .where(one_time_codes.c.login == login, one_time_codes.c.used_at.is_(None))
        .order_by(one_time_codes.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.expires_at < now:
        return False
    counted = conn.execute(
        update(one_time_codes)
        .where(
            one_time_codes.c.id == row.id,
            one_time_codes.c.attempts < CODE_MAX_ATTEMPTS,
            one_time_codes.c.used_at.is_(None),
        )
        .values(attempts=one_time_codes.c.attempts + 1)
    )
    if counted.rowcount != 1:
        return False
    ok = hmac.compare_digest(row.code_hash, _code_hash(kind, login, code.strip()))
    if ok:
        conn.execute(
            update(one_time_codes).where(one_time_codes.c.id == row.id).values(used_at=now)
        )
    return ok
