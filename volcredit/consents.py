"""Written consents (BJ-14c, CQ-15): issue, record on paper, revoke, look up.

A consent names its recipient (a person by name and ID number, or an organisation by USCC), the
purpose, the classes of information and an expiry of at most 90 days. Revocation takes effect at
once: every access is decided afresh by :func:`volcredit.rules.access.consent_access`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from stdnum import exceptions
from stdnum.cn import uscc

from volcredit.held import InfoClass, Subject, parse_classes
from volcredit.identifiers import validate_resident_id
from volcredit.rules.access import ConsentFacts, consent_expiry_problem
from volcredit.store.portal_tables import consents

# Crockford base32 without I, L, O, U: codes read aloud or typed from paper stay unambiguous.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECIPIENT_KINDS = {"person": "个人", "organisation": "组织"}
MAX_SCAN_BYTES = 5 * 1024 * 1024
SCAN_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True)
class ConsentRequest:
    """What a subject (or staff, for a paper consent) asks for; fields as typed in the form."""

    recipient_kind: str
    recipient_name: str
    recipient_id: str
    purpose: str
    classes: list[str]
    expires_on: str


@dataclass(frozen=True)
class ValidConsent:
    recipient_kind: str
    recipient_name: str
    recipient_id: str
    purpose: str
    classes: tuple[InfoClass, ...]
    expires_on: date


def validate_request(
    req: ConsentRequest, subject: Subject, today: date
) -> tuple[ValidConsent | None, dict[str, str]]:
    """The consent, or the problems by form field name (BJ-14c)."""
    errors: dict[str, str] = {}
    kind = req.recipient_kind
    if kind not in RECIPIENT_KINDS:
        errors["recipient_kind"] = "请选择被授权人是个人还是组织"
    name = req.recipient_name.strip()
    if not name or len(name) > 100:
        errors["recipient_name"] = "请填写被授权人的姓名或组织名称（100 字以内）"
    recipient_id = _recipient_id(kind, req.recipient_id, errors)
    purpose = req.purpose.strip()
    if not 2 <= len(purpose) <= 500:
        errors["purpose"] = "请写明授权用途（2–500 字）"
    try:
        classes = parse_classes(req.classes, subject.kind)
        if not classes:
            errors["classes"] = "请至少选择一类信息"
    except ValueError as exc:
        errors["classes"], classes = str(exc), ()
    try:
        expires = date.fromisoformat(req.expires_on.strip())
    except ValueError:
        expires = None
    problem = consent_expiry_problem(today, expires)
    if problem:
        errors["expires_on"] = problem
    if errors or expires is None or recipient_id is None:
        return None, errors
    return ValidConsent(kind, name, recipient_id, purpose, classes, expires), {}


def _recipient_id(kind: str, raw: str, errors: dict[str, str]) -> str | None:
    try:
        if kind == "person":
            return validate_resident_id(raw.strip())
        if kind == "organisation":
            return str(uscc.validate(raw.strip()))
    except exceptions.ValidationError:
        errors["recipient_id"] = (
            "身份证号码无效（请核对位数和校验位）"
            if kind == "person"
            else "统一社会信用代码无效（请核对校验位）"
        )
    return None


def new_code() -> str:
    """A 12-character consent code in three groups, e.g. ``7KQ2-M9XD-4HPT`` (60 random bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(typed: str) -> str:
    """A code as typed (any case, spaces, O for 0, I or L for 1) in its printed form."""
    text = typed.upper().replace(" ", "").replace("-", "")
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return f"{text[:4]}-{text[4:8]}-{text[8:12]}" if len(text) == 12 else text


@dataclass(frozen=True)
class Scan:
    """A signed paper consent's scan, kept with the consent it created."""

    name: str
    content_type: str
    data: bytes


def issue(
    conn: Connection,
    subject: Subject,
    consent: ValidConsent,
    *,
    today: date,
    now: datetime,
    source: str = "electronic",
    recorded_by: str | None = None,
    scan: Scan | None = None,
) -> dict[str, Any]:
    """Store a consent (electronic, or a paper one recorded by staff with its scan)."""
    row = {
        "consent_id": secrets.token_hex(16),
        "code": new_code(),
        "subject_kind": subject.kind,
        "subject": subject.key,
        "subject_name": subject.name[:200],
        "recipient_kind": consent.recipient_kind,
        "recipient_name": consent.recipient_name,
        "recipient_id": consent.recipient_id,
        "purpose": consent.purpose,
        "classes": ",".join(c.value for c in consent.classes),
        "issued_at": now,
        "issued_on": today,
        "expires_on": consent.expires_on,
        "revoked_at": None,
        "source": source,
        "recorded_by": recorded_by,
        "scan_name": scan.name if scan else None,
        "scan_type": scan.content_type if scan else None,
        "scan_sha256": hashlib.sha256(scan.data).hexdigest() if scan else None,
        "scan": scan.data if scan else None,
    }
    conn.execute(insert(consents).values(**row))
    return row


_LISTED = [c for c in consents.columns if c.name != "scan"]


def get(conn: Connection, consent_id: str) -> dict[str, Any] | None:
    """A consent by its ID (without the scan's bytes)."""
    row = conn.execute(select(*_LISTED).where(consents.c.consent_id == consent_id)).first()
    return None if row is None else dict(row._mapping)


def by_code(conn: Connection, code: str) -> dict[str, Any] | None:
    """A consent by its printed code."""
    row = conn.execute(select(*_LISTED).where(consents.c.code == normalise_code(code))).first()
    return None if row is None else dict(row._mapping)


def scan_of(conn: Connection, consent_id: str) -> tuple[str, str, bytes] | None:
    row = conn.execute(
        select(consents.c.scan_name, consents.c.scan_type, consents.c.scan).where(
            consents.c.consent_id == consent_id, consents.c.scan.is_not(None)
        )
    ).first()
    return None if row is None else (row.scan_name, row.scan_type, row.scan)


def issued_by(conn: Connection, subject: Subject) -> list[dict[str, Any]]:
    """Every consent the subject has given, newest first."""
    rows = conn.execute(
        select(*_LISTED)
        .where(consents.c.subject_kind == subject.kind, consents.c.subject == subject.key)
        .order_by(consents.c.issued_at.desc())
    )
    return [dict(r._mapping) for r in rows]


def granted_to(conn: Connection, recipient_kind: str, recipient_id: str) -> list[dict[str, Any]]:
    """Every consent naming this recipient, newest first."""
    rows = conn.execute(
        select(*_LISTED)
        .where(
            consents.c.recipient_kind == recipient_kind,
            consents.c.recipient_id == recipient_id.strip().upper(),
        )
        .order_by(consents.c.issued_at.desc())
    )
    return [dict(r._mapping) for r in rows]


def revoke(conn: Connection, consent_id: str, subject: Subject, now: datetime) -> bool:
    """Revoke the subject's consent at ``now`` (BJ-14c); False if it is not theirs or already
    revoked."""
    result = conn.execute(
        update(consents)
        .where(
            consents.c.consent_id == consent_id,
            consents.c.subject_kind == subject.kind,
            consents.c.subject == subject.key,
            consents.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def facts(row: dict[str, Any]) -> ConsentFacts:
    """The facts the access rule needs from a stored consent."""
    return ConsentFacts(
        row["subject_kind"],
        row["subject"],
        row["recipient_kind"],
        row["recipient_id"],
        frozenset(row["classes"].split(",")),
        row["issued_on"],
        row["expires_on"],
        row["revoked_at"],
    )
