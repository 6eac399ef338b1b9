"""The portal under test: a real store (SQLite file and PostgreSQL), loaded with synthetic
content carrying canary values in every never-public text field, served by uvicorn over real
HTTP, with a clock the test moves and a notifier that keeps the messages it sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from portal import accounts
from portal.app import PortalApp, create_app
from portal.clock import FixedClock
from portal.passwords import Passwords, cheap_hasher
from tests.builders import ADULT_ID, ORG_A, ORG_B, SECOND_ID, base_tables, load, write_content
from tests.portal.server import serving
from volcredit.settings import Settings
from volcredit.store.engine import Store

PASSWORD = "amber-orchard-lantern-58"
START = datetime(2026, 11, 21, 1, 0, 0)  # 09:00 in Beijing, 2026-11-21
TODAY = date(2026, 11, 21)

# One canary per never-public text field of the subjects V0001 and ORG_A (PUB-1, BJ-14c).
CANARIES: dict[tuple[str, str], str] = {
    ("volunteers", "service_area"): "金丝雀服务区域甲一",
    ("volunteers", "service_intentions"): "金丝雀服务意向甲二",
    ("volunteers", "skills"): "金丝雀技能甲三",
    ("volunteers", "phone"): "13877770001",
    ("service_records", "project"): "金丝雀项目甲四",
    ("service_records", "place"): "金丝雀地点甲五",
    ("service_records", "recipients"): "金丝雀服务对象甲六",
    ("service_records", "content"): "金丝雀服务内容甲七",
    ("service_records", "contact_person"): "金丝雀记录人甲八",
    ("trainings", "topic"): "金丝雀培训主题甲九",
    ("trainings", "content"): "金丝雀培训内容甲十",
    ("trainings", "place"): "金丝雀培训地点乙一",
    ("trainings", "contact_person"): "金丝雀培训联系人乙二",
    ("complaints", "summary"): "金丝雀投诉摘要乙三",
    ("complaints", "outcome"): "金丝雀核实结果乙四",
    ("other_info", "description"): "金丝雀其他信息乙五",
    ("organisations", "contact_person"): "金丝雀组织联系人乙六",
    ("organisations", "contact_phone"): "13877770002",
    ("organisations", "address"): "金丝雀组织地址乙七",
}
# The ID number is never public either: the full number and its birth-date digits.
SECRET_STRINGS = [*CANARIES.values(), ADULT_ID, ADULT_ID[6:14]]


def c(table: str, name: str) -> str:
    return CANARIES[(table, name)]


def canary_tables() -> dict[str, list[dict[str, Any]]]:
    t = base_tables()
    v1 = t["volunteers"][0]
    for name in ("service_area", "service_intentions", "skills", "phone"):
        v1[name] = c("volunteers", name)
    v1["birth_date"] = date(1990, 5, 17)
    v2 = t["volunteers"][1]
    v2["phone"] = "13800003333"
    rec = t["service_records"][0]
    for name in ("project", "place", "recipients", "content", "contact_person"):
        rec[name] = c("service_records", name)
    t["service_records"].append(
        {
            "record_id": "R9",
            "volunteer_no": "V0001",
            "organisation": ORG_A,
            "project": "单位内部值班",
            "date": date(2025, 10, 9),
            "hours": "4",
            "recorded_on": date(2025, 10, 10),
            "excluded_kind": 2,
        }
    )
    t["trainings"] = [
        {
            "volunteer_no": "V0001",
            "organisation": ORG_A,
            "date": date(2025, 4, 1),
            "class_hours": "2",
            **{n: c("trainings", n) for n in ("topic", "content", "place", "contact_person")},
        }
    ]
    t["complaints"] = [
        {
            "complaint_id": "C1",
            "subject_kind": "person",
            "subject": "V0001",
            "received_on": date(2025, 11, 3),
            "summary": c("complaints", "summary"),
            "outcome": c("complaints", "outcome"),
            "closed_on": date(2025, 11, 20),
        }
    ]
    t["other_info"] = [
        {
            "subject_kind": "person",
            "subject": "V0001",
            "description": c("other_info", "description"),
            "provided_on": date(2025, 12, 1),
        }
    ]
    org = t["organisations"][0]
    for name in ("contact_person", "contact_phone", "address"):
        org[name] = c("organisations", name)
    return t


class Outbox:
    """A notifier that keeps what it sends (the real default writes files, tested apart)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str, now: datetime) -> None:
        self.messages.append((to, subject, body))

    def last_code(self, to: str) -> str:
        for recipient, _subject, body in reversed(self.messages):
            if recipient == to:
                found = re.search(r"\d{6}", body)
                assert found, body
                return found.group(0)
        raise AssertionError(f"no message to {to}")


def csrf_of(client: httpx.Client, page: str = "/login") -> str:
    """The CSRF token a form on ``page`` carries (asgi-csrf's double-submit value)."""
    html = client.get(page).text
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, f"no CSRF field on {page}"
    return found.group(1)


@dataclass
class World:
    base: str
    store: Store
    clock: FixedClock
    outbox: Outbox
    app: PortalApp
    passwords: Passwords
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        cl = httpx.Client(base_url=self.base, follow_redirects=False, timeout=30)
        self.clients.append(cl)
        return cl

    def post(
        self, client: httpx.Client, path: str, data: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        """POST a form with the CSRF token, as a browser would after loading a page."""
        token = csrf_of(client)
        return client.post(path, data={"csrftoken": token, **(data or {})}, **kw)

    def account(self, kind: str, login: str, name: str, roles: tuple[str, ...] = ()) -> str:
        """Create an account directly in the store; returns the TOTP secret for staff."""
        secret = pyotp.random_base32() if kind == "staff" else None
        with self.store.write() as conn:
            accounts.create(
                conn,
                kind=kind,
                login=login,
                subject=None if kind == "staff" else login,
                display_name=name,
                password_hash=self.passwords.hash(PASSWORD),
                now=self.clock.now(),
                roles=roles,
                totp_secret=secret,
            )
        return secret or ""

    def login(self, login: str, password: str = PASSWORD) -> httpx.Client:
        cl = self.client()
        r = self.post(cl, "/login", {"login": login, "password": password})
        assert r.status_code == 303, r.text
        return cl

    def volunteer(self, volunteer_no: str = "V0001", name: str = "林若溪") -> httpx.Client:
        self.account("volunteer", volunteer_no, name)
        return self.login(volunteer_no)

    def organisation(self, uscc: str = ORG_A, name: str = "东城区阳光志愿者协会") -> httpx.Client:
        self.account("organisation", uscc, name)
        return self.login(uscc)

    def staff(self, username: str, roles: tuple[str, ...]) -> httpx.Client:
        secret = self.account("staff", username, f"工作人员{username}", roles)
        cl = self.login(username)
        code = pyotp.TOTP(secret).at(self.clock.now())
        r = self.post(cl, "/login/totp", {"code": code})
        assert r.status_code == 303, r.text
        return cl


def make_world(store: Store, tmp_path: Path, site_dir: Path | None = None) -> Iterator[World]:
    result = load(store, write_content(tmp_path / "content", canary_tables()))
    assert result.ok, result.log.lines()
    yield from serve_world(store, tmp_path, site_dir)


def serve_world(
    store: Store, tmp_path: Path, site_dir: Path | None = None, search: Any = None
) -> Iterator[World]:
    """The real app under uvicorn over an already loaded ``store``, its clock at ``START``
    (``search``: a search backend other than the whoosh index of ``site_dir``)."""
    site = site_dir or (tmp_path / "no-site")
    settings = Settings(
        db_url=store.url,
        site_dir=str(site),
        secret_key="test-secret-" + "x" * 40,
        outbox=str(tmp_path / "outbox"),
        secure_cookies=False,
        signing_key=str(tmp_path / "signing.key"),
    )
    clock = FixedClock(START)
    outbox = Outbox()
    passwords = Passwords(cheap_hasher())
    app = create_app(
        settings, store=store, clock=clock, notifier=outbox, passwords=passwords, search=search
    )
    with serving(app) as base:
        world = World(base, store, clock, outbox, app, passwords)
        try:
            yield world
        finally:
            for cl in world.clients:
                cl.close()
    app.state.portal.search.close()


@pytest.fixture
def world(store: Store, tmp_path: Path) -> Iterator[World]:
    """The portal on SQLite and on PostgreSQL."""
    yield from make_world(store, tmp_path)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    """The portal on a SQLite file only (for the long sweeps)."""
    from volcredit.store.engine import open_store

    s = open_store(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    try:
        yield from make_world(s, tmp_path)
    finally:
        s.dispose()


__all__ = [
    "ADULT_ID",
    "ORG_A",
    "ORG_B",
    "PASSWORD",
    "SECOND_ID",
    "START",
    "TODAY",
    "World",
    "csrf_of",
    "timedelta",
]


# The certificate tests' worlds (a signing key, the sample issuer), shared by two test modules.
from tests.portal.certificate_helpers import cworld, pdf_world  # noqa: E402, F401
