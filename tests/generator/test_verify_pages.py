"""Static verification pages of record certificates (CQ-17): one per certificate at the QR
address, its status on the build date, and nothing about the person (PUB-1)."""

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


def page(site: Path, number: str) -> BeautifulSoup:
    html = (site / "verify" / number / "index.html").read_text(encoding="utf-8")
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
    """CQ-17: the QR address verify/<number>/ works on the static site and shows the status on
    the build date: valid, revoked, or superseded with a link to the newer certificate."""
    store, site, numbers = built
    valid = page(site, numbers["valid"])
    assert "有效" in valid.select_one(".vc-status").get_text()
    with store.read() as conn:
        cert = certificates.get(conn, numbers["valid"], TODAY)
    assert cert is not None
    text = valid.get_text()
    assert cert.payload["hours"] in text and cert.verification_code in text
    assert "示例民政局" in text and numbers["valid"] in text
    superseded = page(site, numbers["superseded"]).select_one(".vc-status")
    assert "已被新证明取代" in superseded.get_text()
    assert superseded.select_one("a")["href"].endswith(f"verify/{numbers['valid']}/")
    revoked = page(site, numbers["revoked"]).get_text()
    assert "已撤销" in revoked and "记录有误" not in revoked  # the reason is a staff note
    assert not (site / "verify" / numbers["later"]).exists()  # issued after the build date
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
        text = (site / "verify" / numbers[key] / "index.html").read_text(encoding="utf-8")
        for secret in (person.name, person.id_number, VOLUNTEER, cert.payload["content"]):
            assert secret not in text
        assert person.name[0] + "**" not in text
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert "verify/" not in sitemap
