"""Record certificates in the store (CQ-17): hours from qualifying records only (HN-2b), signed
fields, supersession and revocation as events, insert-only rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from tests.builders import load
from volcredit import certificates, signing
from volcredit.certificates import CertificateRefused, CertificateRequest
from volcredit.store.engine import Store
from volcredit.store.schema import certificates as certificate_table
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 9, 0)


@pytest.fixture
def sample(store: Store) -> Store:
    assert load(store, CONTENT, TODAY).ok
    return store


def _excluded_volunteer(store: Store) -> str:
    r = content_tables["service_records"]
    with store.read() as conn:
        return conn.execute(
            select(r.c.volunteer_no).where(r.c.excluded_kind.is_not(None)).limit(1)
        ).scalar_one()


def _expected_hours(store: Store, volunteer_no: str, organisation: str | None = None) -> Decimal:
    r = content_tables["service_records"]
    where = [r.c.volunteer_no == volunteer_no, r.c.excluded_kind.is_(None)]
    if organisation:
        where.append(r.c.organisation == organisation)
    with store.read() as conn:
        rows = conn.execute(select(r.c.hours).where(*where)).scalars().all()
    return sum(rows, Decimal(0)).quantize(Decimal("0.01"))


def test_cq17_hn2b_certificate_counts_qualifying_hours_and_is_signed(
    sample: Store, tmp_path: Path
) -> None:
    """CQ-17: name, ID type and (masked) number, volunteer number, hours, content, issuer,
    number and date are signed; HN-2b: excluded records are not counted; a changed field
    breaks the signature."""
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    volunteer = _excluded_volunteer(sample)
    with sample.write() as conn:
        cert = certificates.issue(conn, CertificateRequest(volunteer), TODAY, "t", NOW, key, "局")
    p = cert.payload
    assert Decimal(p["hours"]) == _expected_hours(sample, volunteer)
    assert p["volunteer_no"] == volunteer and p["issuer"] == "局"
    assert p["issued_on"] == TODAY.isoformat() and p["certificate_no"] == cert.certificate_no
    assert "*" in p["id_number"] and p["id_type"] == "居民身份证" and p["content"]
    assert signing.valid(key.public_key(), p, cert.signature)
    assert not signing.valid(key.public_key(), {**p, "hours": "9999.00"}, cert.signature)
    assert cert.key_fingerprint == signing.fingerprint(key.public_key())
    assert len(cert.verification_code) == 8 and cert.status == "valid"
    view = certificates.public_view(cert)
    for personal in ("id_number", "volunteer_no", "content"):
        assert personal not in view
    assert view["name"] != p["name"] and view["name"][0] == p["name"][0]


def test_cq17_scope_full_id_and_refusals(sample: Store, tmp_path: Path) -> None:
    """CQ-17: one organisation's records only; the full ID number only when asked; an empty
    scope, a reversed or future period, or another organisation's scope are refused."""
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    volunteer = _excluded_volunteer(sample)
    r, v = content_tables["service_records"], content_tables["volunteers"]
    with sample.read() as conn:
        org = conn.execute(
            select(r.c.organisation).where(r.c.volunteer_no == volunteer).limit(1)
        ).scalar_one()
        full = conn.execute(select(v.c.id_number).where(v.c.volunteer_no == volunteer)).scalar_one()
    scoped = CertificateRequest(volunteer, organisation=org, full_id=True)
    with sample.write() as conn:
        cert = certificates.issue(conn, scoped, TODAY, "t", NOW, key, "组织", issuer_uscc=org)
    assert Decimal(cert.payload["hours"]) == _expected_hours(sample, volunteer, org)
    assert cert.payload["id_number"] == full and cert.issuer_uscc == org
    bad = [
        (CertificateRequest(volunteer, period_from=TODAY, period_to=date(2026, 1, 1)), "period_to"),
        (CertificateRequest(volunteer, period_to=date(2026, 12, 31)), "period_to"),
        (CertificateRequest(volunteer, period_to=date(2000, 1, 1)), "period_from"),
        (CertificateRequest("NOBODY"), "volunteer_no"),
    ]
    with sample.write() as conn:
        for req, field in bad:
            with pytest.raises(CertificateRefused) as refused:
                certificates.issue(conn, req, TODAY, "t", NOW, key, "局")
            assert refused.value.field == field
        with pytest.raises(CertificateRefused, match="本组织"):
            certificates.issue(
                conn, CertificateRequest(volunteer), TODAY, "t", NOW, key, "组织", org
            )


def test_cq17_supersession_and_revocation_are_events(sample: Store, tmp_path: Path) -> None:
    """CQ-17: a new certificate of the same scope supersedes the old one; revocation needs a
    reason, is final, and the status on an earlier date is still what it was then."""
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    volunteer = _excluded_volunteer(sample)
    req = CertificateRequest(volunteer)
    with sample.write() as conn:
        first = certificates.issue(conn, req, date(2026, 10, 1), "t", NOW, key, "局")
        second = certificates.issue(conn, req, TODAY, "t", NOW, key, "局")
        with pytest.raises(CertificateRefused):
            certificates.revoke(conn, second.certificate_no, " ", TODAY, "t", "portal", NOW)
        certificates.revoke(conn, second.certificate_no, "记录有误", TODAY, "t", "portal", NOW)
        with pytest.raises(CertificateRefused):
            certificates.revoke(conn, second.certificate_no, "再次", TODAY, "t", "portal", NOW)
    with sample.read() as conn:
        old = certificates.get(conn, first.certificate_no, TODAY)
        new = certificates.get(conn, second.certificate_no, TODAY)
        earlier = certificates.get(conn, first.certificate_no, date(2026, 10, 2))
        assert certificates.get(conn, "2026-0000-0000-0000", TODAY) is None
    assert old is not None and old.status == "superseded"
    assert old.superseded_by == second.certificate_no
    assert new is not None and new.status == "revoked" and new.status_reason == "记录有误"
    assert earlier is not None and earlier.status == "valid"
    assert certificates.normalise_number(" 2026-ab0o-i1l ") == "2026-AB00-111"
    view = certificates.public_view(old)  # PUB-1: the newer number leads to another document
    assert view["status"] == "superseded" and "superseded_by" not in view
    assert second.certificate_no not in str(view)
    assert certificates.public_view(new)["status_reason"] == "记录有误"


def test_cq17_pub1_static_key_derives_from_number_and_code() -> None:
    """CQ-17, PUB-1: the static page's key is the first 32 hex characters of
    sha256("<number>|<code>"): not derivable from the number alone, the same on every build."""
    import hashlib

    number, code = "2026-ABCD-EFGH-JK12", "0123ABCD"
    expected = hashlib.sha256(f"{number}|{code}".encode()).hexdigest()[:32]
    assert certificates.static_key(number, code) == expected
    assert certificates.static_key(number, "0123ABCE") != expected
    assert certificates.verify_path(number, code) == f"verify/{expected}/"
    assert number not in certificates.verify_path(number, code)
    assert certificates.normalise_code(" 0l23-abcd ") == code


def test_cq17_certificate_rows_are_insert_only(sample: Store, tmp_path: Path) -> None:
    """CQ-17: an issued certificate cannot be edited or deleted, even with SQL access."""
    key, _ = signing.load_or_create_key(tmp_path / "k.pem")
    volunteer = _excluded_volunteer(sample)
    with sample.write() as conn:
        cert = certificates.issue(conn, CertificateRequest(volunteer), TODAY, "t", NOW, key, "局")
    with pytest.raises(DBAPIError), sample.write() as conn:
        conn.execute(
            update(certificate_table)
            .where(certificate_table.c.certificate_no == cert.certificate_no)
            .values(signature="forged")
        )
    with sample.read() as conn:
        count = conn.execute(select(func.count()).select_from(certificate_table)).scalar_one()
    assert count == 1
