"""Record certificates (志愿服务记录证明, CQ-17): issued from the records, signed, verifiable.

A certificate states, for one volunteer, the qualifying hours (HN-2b records never count) of all
their records or of one organisation's, optionally within a period, with a summary of the
service content. Its fields (the *payload*) are signed with the authority's Ed25519 key; the
row is insert-only. Revocation (with a reason) and supersession (a newer certificate of the same
scope) are history events on the certificate number, so its status on any date is reproducible.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, func, insert, select

from volcredit import labels, signing
from volcredit.rules.masking import MaskKind, mask
from volcredit.store import history
from volcredit.store.schema import certificates, content_tables
from volcredit.store.schema import history as history_table

REVOKED, SUPERSEDED = "certificate_revoked", "certificate_superseded"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
SUMMARY_PROJECTS = 5


class CertificateRefused(ValueError):
    """A certificate that cannot be issued or changed, naming the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class CertificateRequest:
    """What the certificate covers (CQ-17): all records or one organisation's, in a period."""

    volunteer_no: str
    organisation: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    full_id: bool = False  # the volunteer asked for the full ID number on the document


@dataclass(frozen=True)
class Certificate:
    certificate_no: str
    volunteer_no: str
    issued_on: date
    issuer_kind: str  # authority | organisation
    issuer_uscc: str | None
    organisation: str | None
    period_from: date | None
    period_to: date | None
    payload: dict[str, Any]  # the signed fields, as printed
    signature: str
    key_fingerprint: str
    status: str  # valid | revoked | superseded
    status_on: date | None
    status_reason: str | None
    superseded_by: str | None

    @property
    def verification_code(self) -> str:
        return verification_code(self.signature)


def verification_code(signature: str) -> str:
    """The short code printed on the certificate and shown when it is verified (8 characters)."""
    digest = hashlib.sha256(signature.encode("ascii")).digest()
    bits = int.from_bytes(digest[:5], "big")
    return "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(8)))


def static_key(certificate_no: str, code: str) -> str:
    """The address of a certificate's static verification page (``verify/<key>/``): derived from
    the number and the verification code, so that the signed manifest, which lists every page,
    tells no one a certificate number (PUB-1) and only the holder finds the page."""
    return hashlib.sha256(f"{certificate_no}|{code}".encode()).hexdigest()[:32]


def verify_path(certificate_no: str, code: str) -> str:
    """The site-relative verification address printed on the certificate and in its QR code."""
    return f"verify/{static_key(certificate_no, code)}/"


def normalise_code(raw: str) -> str:
    """A typed verification code: upper case, no spaces or dashes; O→0 and I/L→1."""
    return normalise_number(raw.replace("-", ""))[:16]


def normalise_number(raw: str) -> str:
    """A typed certificate number: upper case, no spaces; O→0 and I/L→1 as in Crockford."""
    cleaned = "".join(raw.split()).upper()
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def _new_number(conn: Connection, today: date) -> str:
    while True:
        body = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        number = f"{today.year}-{body[:4]}-{body[4:8]}-{body[8:]}"
        taken = conn.execute(
            select(certificates.c.certificate_no).where(certificates.c.certificate_no == number)
        ).first()
        if taken is None:
            return number


def _hours(raw: Any) -> Decimal:
    if raw is None:
        return Decimal("0.00")
    if isinstance(raw, Decimal):
        return raw.quantize(Decimal("0.01"))
    return (Decimal(int(raw)) / 100).quantize(Decimal("0.01"))


def _scope(req: CertificateRequest, today: date) -> list[Any]:
    r = content_tables["service_records"]
    where = [
        r.c.volunteer_no == req.volunteer_no,
        r.c.excluded_kind.is_(None),  # HN-2b: no hours, stars or certificates
        r.c.date <= today,
        r.c.recorded_on <= today,
    ]
    if req.organisation:
        where.append(r.c.organisation == req.organisation)
    if req.period_from:
        where.append(r.c.date >= req.period_from)
    if req.period_to:
        where.append(r.c.date <= req.period_to)
    return where


def request_problem(
    conn: Connection, req: CertificateRequest, today: date
) -> tuple[str, str] | None:
    """Why ``req`` cannot be issued on ``today``, as ``(field, message)``, or ``None``."""
    if req.period_from and req.period_to and req.period_from > req.period_to:
        return "period_to", "结束日期不能早于开始日期"
    if req.period_to and req.period_to > today:
        return "period_to", "结束日期不能晚于今天"
    v = content_tables["volunteers"]
    if (
        conn.execute(select(v.c.volunteer_no).where(v.c.volunteer_no == req.volunteer_no)).first()
        is None
    ):
        return "volunteer_no", "没有这个志愿者编号"
    r = content_tables["service_records"]
    count = conn.execute(
        select(func.count()).select_from(r).where(*_scope(req, today))
    ).scalar_one()
    if not count:
        return (
            "organisation" if req.organisation else "period_from",
            "所选范围内没有可证明的服务记录",
        )
    return None


def scope_organisations(conn: Connection, volunteer_no: str, today: date) -> list[tuple[str, str]]:
    """``(uscc, name)`` of each organisation with qualifying records of the volunteer on
    ``today`` (HN-2b records never count): the choices for a one-organisation certificate."""
    r, o = content_tables["service_records"], content_tables["organisations"]
    rows = conn.execute(
        select(r.c.organisation, func.coalesce(o.c.name, r.c.organisation))
        .select_from(r.outerjoin(o, o.c.uscc == r.c.organisation))
        .where(*_scope(CertificateRequest(volunteer_no), today), r.c.organisation.is_not(None))
        .group_by(r.c.organisation, o.c.name)
        .order_by(func.coalesce(o.c.name, r.c.organisation))
    )
    return [(uscc, name) for uscc, name in rows]


def _summary(conn: Connection, req: CertificateRequest, today: date) -> tuple[Decimal, int, str]:
    """Qualifying hours, records and a summary of the service content (by project)."""
    r = content_tables["service_records"]
    total, records = conn.execute(
        select(func.sum(r.c.hours), func.count()).where(*_scope(req, today))
    ).one()
    projects = conn.execute(
        select(r.c.project, func.sum(r.c.hours).label("h"), func.count())
        .where(*_scope(req, today))
        .group_by(r.c.project)
        .order_by(func.sum(r.c.hours).desc(), r.c.project)
    ).all()
    shown = [f"{p}（{_hours(h)} 小时）" for p, h, _ in projects[:SUMMARY_PROJECTS]]
    more = len(projects) - SUMMARY_PROJECTS
    summary = "；".join(shown) + (f"；等共 {len(projects)} 个项目" if more > 0 else "")
    return _hours(total), int(records), summary


def issue(
    conn: Connection,
    req: CertificateRequest,
    today: date,
    actor: str,
    now: datetime,
    key: Ed25519PrivateKey,
    issuer: str,
    issuer_uscc: str | None = None,
) -> Certificate:
    """Issue and sign a certificate inside the caller's write transaction (CQ-17); a valid
    earlier certificate of the same scope from the same issuer is superseded by it."""
    problem = request_problem(conn, req, today)
    if problem is not None:
        raise CertificateRefused(*problem)
    if issuer_uscc is not None and req.organisation != issuer_uscc:
        raise CertificateRefused("organisation", "组织只能为本组织的服务记录出具证明")
    history.lock(conn)
    v, o = content_tables["volunteers"], content_tables["organisations"]
    person = conn.execute(select(v).where(v.c.volunteer_no == req.volunteer_no)).one()
    org_name = None
    if req.organisation:
        org_name = conn.execute(
            select(o.c.name).where(o.c.uscc == req.organisation)
        ).scalar_one_or_none()
    hours, records, content = _summary(conn, req, today)
    number = _new_number(conn, today)
    shown = person.id_number if req.full_id else mask(MaskKind.ID_NUMBER, person.id_number)
    period = "全部"
    if req.period_from or req.period_to:
        start = req.period_from.isoformat() if req.period_from else "最早记录"
        period = f"{start} 至 {(req.period_to or today).isoformat()}"
    payload = {
        "certificate_no": number,
        "name": person.name,
        "id_type": labels.ID_TYPES.get(person.id_type, person.id_type),
        "id_number": shown,
        "volunteer_no": person.volunteer_no,
        "hours": str(hours),
        "records": records,
        "organisation": org_name or "全部组织",
        "period": period,
        "content": content,
        "issuer": issuer,
        "issued_on": today.isoformat(),
    }
    signature = signing.sign(key, payload)
    row = {
        "certificate_no": number,
        "volunteer_no": req.volunteer_no,
        "issued_on": today,
        "issuer_kind": "organisation" if issuer_uscc else "authority",
        "issuer_uscc": issuer_uscc,
        "organisation": req.organisation,
        "period_from": req.period_from,
        "period_to": req.period_to,
        "payload": payload,
        "signature": signature,
        "key_fingerprint": signing.fingerprint(key.public_key()),
        "actor": actor[:200],
        "recorded_at": now,
    }
    earlier = [c for c in of_volunteer(conn, req.volunteer_no, today) if _same_scope(c, row)]
    conn.execute(insert(certificates), [row])
    superseded = [
        history.NewEvent(c.certificate_no, SUPERSEDED, today, actor, "portal", None, {"by": number})
        for c in earlier
        if c.status == "valid"
    ]
    history.append(conn, superseded, now)
    found = get(conn, number, today)
    assert found is not None
    return found


def _same_scope(c: Certificate, row: dict[str, Any]) -> bool:
    return (c.issuer_kind, c.issuer_uscc, c.organisation, c.period_from, c.period_to) == (
        row["issuer_kind"],
        row["issuer_uscc"],
        row["organisation"],
        row["period_from"],
        row["period_to"],
    )


def _status(
    conn: Connection, numbers: list[str], today: date
) -> dict[str, tuple[str, date, str | None, str | None]]:
    """The latest status event of each certificate on ``today``."""
    if not numbers:
        return {}
    h = history_table
    rows = conn.execute(
        select(h.c.ref, h.c.event, h.c.date, h.c.note, h.c.payload)
        .where(h.c.ref.in_(numbers), h.c.event.in_((REVOKED, SUPERSEDED)), h.c.date <= today)
        .order_by(h.c.seq)
    )
    out: dict[str, tuple[str, date, str | None, str | None]] = {}
    for ref, event, day, note, payload in rows:
        if ref in out and out[ref][0] == "revoked":
            continue  # revocation is final
        status = "revoked" if event == REVOKED else "superseded"
        out[ref] = (status, day, note, (payload or {}).get("by"))
    return out


def _certificates(conn: Connection, where: Any, today: date) -> list[Certificate]:
    c = certificates
    rows = conn.execute(
        select(c)
        .where(where, c.c.issued_on <= today)
        .order_by(c.c.issued_on.desc(), c.c.certificate_no)
    ).all()
    status = _status(conn, [r.certificate_no for r in rows], today)
    out = []
    for r in rows:
        state, on, reason, by = status.get(r.certificate_no, ("valid", None, None, None))
        out.append(
            Certificate(
                r.certificate_no,
                r.volunteer_no,
                r.issued_on,
                r.issuer_kind,
                r.issuer_uscc,
                r.organisation,
                r.period_from,
                r.period_to,
                dict(r.payload),
                r.signature,
                r.key_fingerprint,
                state,
                on,
                reason,
                by,
            )
        )
    return out


def get(conn: Connection, certificate_no: str, today: date) -> Certificate | None:
    """One certificate with its status on ``today``, or ``None``."""
    found = _certificates(conn, certificates.c.certificate_no == certificate_no, today)
    return found[0] if found else None


def of_volunteer(conn: Connection, volunteer_no: str, today: date) -> list[Certificate]:
    """A volunteer's certificates, newest first, with their status on ``today``."""
    return _certificates(conn, certificates.c.volunteer_no == volunteer_no, today)


def issued_by(conn: Connection, uscc: str, today: date) -> list[Certificate]:
    """The certificates an organisation issued from its own records, newest first."""
    return _certificates(conn, certificates.c.issuer_uscc == uscc, today)


def revoke(
    conn: Connection,
    certificate_no: str,
    reason: str,
    today: date,
    actor: str,
    source: str,
    now: datetime,
) -> history.Entry:
    """Revoke a valid certificate with a reason (a wrong record, a fraudulent request)."""
    if not reason.strip():
        raise CertificateRefused("reason", "请写明撤销理由")
    history.lock(conn)
    found = get(conn, certificate_no, today)
    if found is None:
        raise CertificateRefused("certificate_no", "没有这个证明编号")
    if found.status != "valid":
        raise CertificateRefused("certificate_no", "该证明已撤销或已被新证明取代")
    event = history.NewEvent(certificate_no, REVOKED, today, actor, source, reason.strip()[:500])
    return history.append(conn, [event], now)[0]


def public_view(cert: Certificate) -> dict[str, Any]:
    """What verification shows someone holding the number and the verification code (CQ-17,
    HN-2c): the certificate's non-personal fields, the masked name and the status (a
    revocation's reason included) — never the ID or volunteer number, nor the service content
    (service records are never public, PUB-1; the holder's document shows it), nor the number
    of a newer certificate (it would lead to a document the holder does not have)."""
    p = cert.payload
    return {
        "certificate_no": cert.certificate_no,
        "name": mask(MaskKind.PERSON_NAME, p["name"]),
        "hours": p["hours"],
        "records": p["records"],
        "organisation": p["organisation"],
        "period": p["period"],
        "issuer": p["issuer"],
        "issued_on": p["issued_on"],
        "verification_code": cert.verification_code,
        "status": cert.status,
        "status_on": cert.status_on.isoformat() if cert.status_on else None,
        "status_reason": cert.status_reason if cert.status == "revoked" else None,
    }


def all_numbers(conn: Connection, today: date) -> Iterator[str]:
    """Every certificate number issued on or before ``today`` (for static verification pages)."""
    c = certificates
    query = select(c.c.certificate_no).where(c.c.issued_on <= today).order_by(c.c.certificate_no)
    yield from conn.execute(query.execution_options(yield_per=5000)).scalars()
