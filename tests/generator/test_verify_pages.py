"""Static verification pages of record certificates (CQ-17): one per certificate at the QR
address (a key derived from the number and the verification code), its status on the build
date, and nothing about the person nor any certificate number (PUB-1)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from generator.build import build_site
from tests.builders import load
from volcredit import certificates, signing
from volcredit.settings import Settings
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 9, 0)
VOLUNTEER = "BJ2024000101"


def static_page(store: Store, site: Path, number: str) -> Path:
    """The page file of a certificate: at its static key, not at its number."""
    with store.read() as conn:
        cert = certificates.get(conn, number, date(2099, 1, 1))  # also one issued after TODAY
    assert cert is not None
    key = certificates.static_key(number, cert.verification_code)
    assert certificates.verify_path(number, cert.verification_code) == f"verify/{key}/"
    return site / "verify" / key / "index.html"


def page(store: Store, site: Path, number: str) -> BeautifulSoup:
    html = static_page(store, site, number).read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("verify")
    store = open_store(f"sqlite:///{tmp / 'store.sqlite3'}")
    assert load(store, CONTENT, TODAY).ok
    settings = Settings(signing_key=str(tmp / "site.key"))
    key, _ = signing.load_or_create_key(Path(settings.signing_key))
    request = certificates.CertificateRequest(VOLUNTEER, full_id=True)
    with store.write() as conn:
        first = certificates.issue(conn, request, date(2026, 9, 1), "t", NOW, key, "示例民政局")
        second = certificates.issue(conn, request, date(2026, 10, 1), "t", NOW, key, "示例民政局")
        third = certificates.issue(
            conn,
            certificates.CertificateRequest(VOLUNTEER, period_to=date(2026, 6, 30)),
            date(2026, 10, 2),
            "t",
            NOW,
            key,
            "示例民政局",
        )
        reason = "记录有误，已更正后重开"
        certificates.revoke(conn, third.certificate_no, reason, TODAY, "t", "portal", NOW)
        later = certificates.issue(conn, request, date(2026, 12, 1), "t", NOW, key, "示例民政局")
    result = build_site(store, tmp / "site", TODAY, settings)
    assert result.ok, result.leaks
    numbers = {
        "superseded": first.certificate_no,
        "valid": second.certificate_no,
        "revoked": third.certificate_no,
        "later": later.certificate_no,
    }
    return store, (tmp / "site").resolve(), numbers


def test_cq17_each_certificate_has_a_static_page_with_its_status(
    built: tuple[Store, Path, dict[str, str]],
) -> None:
    """CQ-17: the QR address verify/<static key>/ works on the static site and shows the status
    on the build date: valid, revoked, or superseded without naming the newer certificate."""
    store, site, numbers = built
    valid = page(store, site, numbers["valid"])
    assert "有效" in valid.select_one(".vc-status").get_text()
    with store.read() as conn:
        cert = certificates.get(conn, numbers["valid"], TODAY)
    assert cert is not None
    text = valid.get_text()
    assert cert.payload["hours"] in text and cert.verification_code in text
    assert "示例民政局" in text and numbers["valid"] not in text
    superseded = page(store, site, numbers["superseded"]).select_one(".vc-status")
    assert "已被新证明取代" in superseded.get_text()
    assert superseded.select_one("a") is None and numbers["valid"] not in superseded.get_text()
    revoked = page(store, site, numbers["revoked"]).get_text()
    assert "已撤销" in revoked and "记录有误" not in revoked  # the reason is a staff note
    assert not static_page(store, site, numbers["later"]).exists()  # issued after the build
    assert not (site / "verify" / numbers["valid"]).exists()
    assert (site / "verify" / "index.html").exists()


def test_pub1_verification_pages_say_nothing_about_the_person(
    built: tuple[Store, Path, dict[str, str]],
) -> None:
    """PUB-1: no name (not even masked), ID number, volunteer number or service content on the
    static pages, which the signed manifest lists; nor in the sitemap."""
    store, site, numbers = built
    v = content_tables["volunteers"]
    with store.read() as conn:
        person = conn.execute(
            select(v.c.name, v.c.id_number).where(v.c.volunteer_no == VOLUNTEER)
        ).one()
        cert = certificates.get(conn, numbers["valid"], TODAY)
    assert cert is not None
    for key in ("valid", "superseded", "revoked"):
        text = static_page(store, site, numbers[key]).read_text(encoding="utf-8")
        for secret in (person.name, person.id_number, VOLUNTEER, cert.payload["content"]):
            assert secret not in text
        assert person.name[0] + "**" not in text
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert "verify/" not in sitemap


def test_pub1_no_certificate_number_in_the_manifest_or_any_page(
    built: tuple[Store, Path, dict[str, str]],
) -> None:
    """PUB-1, CQ-17: the signed manifest lists every file, so no file of the built site, the
    manifest included, names a certificate number (in any spelling): the verification pages
    are addressed by a key only the holder can derive, and a superseded page does not name the
    newer certificate. Every certificate has exactly one page."""
    store, site, numbers = built
    with store.read() as conn:
        issued = [certificates.get(conn, n, TODAY) for n in certificates.all_numbers(conn, TODAY)]
    spellings = {
        form
        for cert in issued
        if cert is not None
        for form in (cert.certificate_no, cert.certificate_no.replace("-", ""))
    }
    assert numbers["valid"] in spellings and len(spellings) == 2 * 3
    leaks = []
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaks += [(str(path), n) for n in spellings if n.encode() in data or n in path.name]
    assert leaks == []
    manifest = (site / "manifest.json").read_text(encoding="utf-8")
    pages = sorted(p.parent.name for p in (site / "verify").glob("*/index.html"))
    assert len(pages) == 3 and all(f"verify/{key}/index.html" in manifest for key in pages)
