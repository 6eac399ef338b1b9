"""Shared fixtures and helpers of the certificate tests (test_certificates.py, the PDF;
test_certificate_verify.py, verification and access): worlds over SQLite and PostgreSQL,
issuing, downloading and reading certificates (CQ-17)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from portal import certificate_pdf
from tests.builders import id_number, load, write_content
from tests.portal.conftest import (
    ADULT_ID,
    ORG_B,
    SECRET_STRINGS,
    TODAY,
    World,
    canary_tables,
    serve_world,
)
from volcredit import certificates
from volcredit.rules.masking import MaskKind, mask
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import content_tables

SITE_URL = "https://zyfw.example.gov.cn/"
ISSUER = "示例市民政局志愿服务信用信息平台"
NAME = "林若溪"
PERSONAL = [*SECRET_STRINGS, NAME, "V0001", mask(MaskKind.ID_NUMBER, ADULT_ID)]


def _cert(world: World, number: str) -> certificates.Certificate:
    with world.store.read() as conn:
        cert = certificates.get(conn, number, TODAY)
    assert cert is not None
    return cert


def _url(cert: certificates.Certificate) -> str:
    """The verification address printed and in the QR code: the static page."""
    return f"{SITE_URL}{certificates.verify_path(cert.certificate_no, cert.verification_code)}"


def _verify(client: httpx.Client, cert: certificates.Certificate) -> httpx.Response:
    """/verify/<number> with the right code, as the form sends it."""
    return client.get(f"/verify/{cert.certificate_no}", params={"code": cert.verification_code})


def _world(store: Store, tmp_path: Path) -> Iterator[World]:
    """The canary world plus one qualifying ORG_B record of V0001, with the signing key in
    ``tmp_path`` (never the working directory's) and a public site address."""
    tables = canary_tables()
    tables["service_records"].append(
        {
            "record_id": "R10",
            "volunteer_no": "V0001",
            "organisation": ORG_B,
            "project": "邻里互助",
            "date": date(2026, 3, 14),
            "hours": "2.25",
            "recorded_on": date(2026, 3, 16),
        }
    )
    rare = {**tables["volunteers"][1], "volunteer_no": "V0004", "name": "李𪚥"}  # 𪚥: U+2A6A5
    tables["volunteers"].append({**rare, "id_number": id_number("110101", date(1988, 1, 2), 321)})
    tables["service_records"].append(
        {**tables["service_records"][-1], "record_id": "R11", "volunteer_no": "V0004"}
    )
    assert load(store, write_content(tmp_path / "content", tables)).ok
    for world in serve_world(store, tmp_path):
        portal = world.app.state.portal
        key = str(tmp_path / "keys" / "signing.key")
        portal.settings = replace(
            portal.settings, signing_key=key, site_url=SITE_URL, issuer=ISSUER
        )
        yield world


@pytest.fixture
def cworld(store: Store, tmp_path: Path) -> Iterator[World]:
    """On SQLite and on PostgreSQL."""
    yield from _world(store, tmp_path)


@pytest.fixture
def pdf_world(tmp_path: Path) -> Iterator[World]:
    """On a SQLite file only (the PDF tests)."""
    s = open_store(f"sqlite:///{tmp_path / 'certificates.sqlite3'}")
    try:
        yield from _world(s, tmp_path)
    finally:
        s.dispose()


def _public_key(world: World) -> Path:
    return Path(f"{world.app.state.portal.settings.signing_key}.pub")


def _issue(world: World, client: httpx.Client, **data: str) -> str:
    """Issue through the form; the answer goes to the new certificate's download."""
    r = world.post(client, "/me/certificates", data)
    assert r.status_code == 303, r.text
    found = re.fullmatch(
        r"/me/certificates/(\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\.pdf", r.headers["location"]
    )
    assert found, r.headers["location"]
    return found.group(1)


def _download(client: httpx.Client, number: str) -> bytes:
    r = client.get(f"/me/certificates/{number}.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["cache-control"] == "no-store"
    return r.content


def _page_text(pdf: bytes) -> str:
    """The printed text as pypdf extracts it, without whitespace and NULs."""
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def _attachment(pdf: bytes) -> dict:
    return json.loads(PdfReader(io.BytesIO(pdf)).attachments[certificate_pdf.ATTACHMENT][0])


def _qualifying_hours(store: Store, volunteer_no: str, organisation: str | None = None) -> str:
    """The sum of the volunteer's records that are not HN-2b exclusions, from the store."""
    r = content_tables["service_records"]
    where = [r.c.volunteer_no == volunteer_no, r.c.excluded_kind.is_(None)]
    if organisation:
        where.append(r.c.organisation == organisation)
    with store.read() as conn:
        hours = conn.execute(select(r.c.hours).where(*where)).scalars().all()
    return f"{sum(hours, Decimal(0)):.2f}"


def _text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def _assert_nothing_personal(html: str) -> None:
    """PUB-1: no ID number (full or masked), volunteer number, full name or canary."""
    assert [v for v in PERSONAL if v in html] == []


def _field_error(html: str, name: str) -> str:
    """The error shown beside the form field ``name`` (an input or a group of radios)."""
    for box in BeautifulSoup(html, "html.parser").select(".vc-field--error"):
        if box.select_one(f'[name="{name}"]') is not None:
            error = box.select_one(".vc-error")
            assert error is not None
            return error.get_text()
    raise AssertionError(f"no error beside {name}")


def _with_attachment(pdf: bytes, data: bytes | None) -> bytes:
    """The same pages with ``data`` as the only certificate.json (or none)."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf)))  # pages only: the attachment is left behind
    if data is not None:
        writer.add_attachment(certificate_pdf.ATTACHMENT, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
