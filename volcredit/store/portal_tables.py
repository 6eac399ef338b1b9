"""The portal's tables: accounts, server-side sessions, login throttling, one-time codes,
written consents and the access log (BJ-14, BJ-15, BJ-23).

They live beside the content tables but are never replaced by a load: a load swaps content
tables only. All portal state is here, so any number of portal processes can share one store.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from volcredit.store.schema import metadata

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # volunteer | organisation | staff
    Column("login", String(64), nullable=False, unique=True),
    Column("subject", String(64)),  # volunteer_no or USCC; none for staff
    Column("display_name", String(200), nullable=False),
    Column("roles", String(200), nullable=False),  # staff roles, comma-separated
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret", String(64)),
    Column("totp_last_step", Integer),  # a TOTP code is accepted once (no replay)
    Column("created_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("account_id", String(32), nullable=False, index=True),
    Column("stage", String(8), nullable=False),  # full | totp (password ok, second factor due)
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False),  # account:<login> | ip:<address>
    Column("at", DateTime, nullable=False),
    Index("ix_login_attempts_key_at", "key", "at"),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(64), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", DateTime),
)

consents = Table(
    "consents",
    metadata,
    Column("consent_id", String(32), primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("subject_name", String(200), nullable=False),
    Column("recipient_kind", String(16), nullable=False),  # person | organisation
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_id", String(32), nullable=False),  # ID number or USCC
    Column("purpose", Text, nullable=False),
    Column("classes", String(200), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("revoked_at", DateTime),
    Column("source", String(16), nullable=False),  # electronic | paper
    Column("recorded_by", String(32)),  # the staff account that recorded a paper consent
    Column("scan_name", String(200)),
    Column("scan_type", String(100)),
    Column("scan_sha256", String(64)),
    Column("scan", LargeBinary),
    Index("ix_consents_subject", "subject_kind", "subject"),
    Index("ix_consents_recipient", "recipient_kind", "recipient_id"),
)

access_log = Table(
    "access_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor_account", String(32), nullable=False),
    Column("actor_label", String(200), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("authority", String(16), nullable=False),  # self | consent | duty
    Column("reference", String(200), nullable=False),  # consent ID or duty reference
    Column("what", String(200), nullable=False),
    Index("ix_access_log_subject", "subject_kind", "subject", "seq"),
    Index("ix_access_log_actor", "actor_account", "seq"),
)
