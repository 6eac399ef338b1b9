"""The authorization matrix (BJ-14, BJ-23): every party against every route that takes an
identifier, with zero unexpected successes, and no canary in any answer to someone not entitled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select

from tests.builders import ORG_A, ORG_B
from tests.portal.conftest import SECOND_ID, SECRET_STRINGS, TODAY, World
from volcredit import certificates

PDF = b"%PDF-1.4\n% signed paper consent scan\n"


@dataclass
class Setup:
    parties: dict[str, httpx.Client]
    valid: str
    expired: str
    revoked: str
    paper: str
    certificate: str  # V0001's record certificate (CQ-17)
    notice: int  # the history entry of the notice in V0001's case P7 (BJ-16a)
    case_file: str  # the evidence V0001 filed with a statement in P7 (BJ-16b)


def _issue(world: World, subject: httpx.Client, expires_in: int, classes: list[str]) -> str:
    r = world.post(
        subject,
        "/me/consents",
        {
            "recipient_kind": "person",
            "recipient_name": "陈景行",
            "recipient_id": SECOND_ID,
            "purpose": "核实志愿服务经历",
            "classes": classes,
            "expires_on": (TODAY + timedelta(days=expires_in)).isoformat(),
        },
    )
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def _setup(world: World) -> Setup:
    subject = world.volunteer("V0001", "林若溪")
    valid = _issue(world, subject, 30, ["basic", "service"])
    expired = _issue(world, subject, 1, ["basic"])
    revoked = _issue(world, subject, 30, ["basic"])
    assert world.post(subject, f"/me/consents/{revoked}/revoke").status_code == 303
    world.account("volunteer", "V0002", "陈景行")
    world.account("organisation", ORG_B, "芙蓉区邻里互助中心")
    officer = world.staff("officer1", ("records_officer",))
    r = world.post(
        officer,
        "/staff/consents/paper",
        {
            "kind": "person",
            "key": "V0001",
            "recipient_kind": "person",
            "recipient_name": "陈景行",
            "recipient_id": SECOND_ID,
            "purpose": "纸质授权核实",
            "classes": ["basic"],
            "expires_on": (TODAY + timedelta(days=10)).isoformat(),
        },
        files={"scan": ("scan.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 200, r.text
    with world.store.read() as conn:
        from volcredit.store.portal_tables import consents

        paper = conn.execute(
            select(consents.c.consent_id).where(consents.c.source == "paper")
        ).scalar_one()
    with world.store.write() as conn:  # signed with a throwaway key: no key file is touched
        cert = certificates.issue(
            conn,
            certificates.CertificateRequest("V0001"),
            TODAY,
            "test",
            world.clock.now(),
            Ed25519PrivateKey.generate(),
            "测试出具机关",
        )
    notice, case_file = _case_of_v0001(world)
    world.clock.advance(timedelta(days=2))  # the 1-day consent has now expired
    parties = {  # logged in after the clock moved (sessions last at most 12 hours)
        "anonymous": world.client(),
        "subject": world.login("V0001"),
        "other_subject": world.login(ORG_B),
        "recipient": world.login("V0002"),
        "staff_no_duty": world.staff("clerk1", ("case_officer",)),
        "staff_duty": world.staff("clerk2", ("case_officer",)),
        "staff_registry": world.staff("registry1", ("registry_officer",)),
    }
    return Setup(parties, valid, expired, revoked, paper, cert.certificate_no, notice, case_file)


def _case_of_v0001(world: World) -> tuple[int, str]:
    """A bad-info case P7 about V0001, notified, with a statement and its evidence filed."""
    from volcredit import case_actions
    from volcredit.case_steps import Upload
    from volcredit.settings import PublicityPeriods
    from volcredit.store.schema import case_files, content_tables

    periods = PublicityPeriods()
    with world.store.write() as conn:
        conn.execute(
            insert(content_tables["penalties"]).values(
                case_id="P7",
                subject_kind="person",
                subject="V0001",
                category=3,
                facts="未按规定记录服务信息",
                decision_no="东民罚〔2026〕7号",
                authority="东城区民政局",
                decided_on=TODAY - timedelta(days=30),
                procedure="general",
                severity="general",
                source_line=99,
            )
        )
        texts = {"reasons": "经查证属实", "basis": "办法第十条"}
        common = {"today": TODAY, "actor": "test", "source": "cli", "now": world.clock.now()}
        notice = case_actions.record(
            conn, "P7", "notice_served", periods=periods, texts=texts, **common
        )
        case_actions.record(
            conn,
            "P7",
            "statement_received",
            periods=periods,
            texts={"statement": "本人陈述"},
            uploads=[Upload("evidence", "ev.pdf", PDF)],
            **common,
        )
        file_id = conn.execute(select(case_files.c.file_id)).scalar_one()
    return notice.seq, file_id


def _succeeded(r: httpx.Response) -> bool:
    """A success is a 2xx, or a redirect that is not to the login page."""
    if 200 <= r.status_code < 300:
        return True
    return r.status_code in (302, 303) and not r.headers["location"].startswith("/login")


def _requests(s: Setup) -> list[tuple[str, str, str]]:
    """(label, method, path) for every route taking an identifier, per consent state."""
    return [
        ("consent_view_valid", "GET", f"/consents/{s.valid}"),
        ("consent_view_expired", "GET", f"/consents/{s.expired}"),
        ("consent_view_revoked", "GET", f"/consents/{s.revoked}"),
        ("consent_doc", "GET", f"/me/consents/{s.valid}"),
        ("consent_revoke", "POST", f"/me/consents/{s.expired}/revoke"),
        ("honour_delete", "POST", "/me/honours/H1/delete"),
        ("case_page", "GET", "/me/cases/P7"),
        ("case_step", "POST", "/me/cases/P7/steps/published_objection_received"),
        ("case_document", "GET", f"/me/cases/P7/documents/{s.notice}"),
        ("case_document_pdf", "GET", f"/me/cases/P7/documents/{s.notice}.pdf"),
        ("case_file", "GET", f"/me/cases/P7/files/{s.case_file}"),
        ("staff_case", "GET", "/staff/cases/P7"),
        ("staff_case_step", "POST", "/staff/cases/P7/steps/decided_not_listed"),
        ("staff_case_document", "GET", f"/staff/cases/P7/documents/{s.notice}"),
        ("staff_case_file", "GET", f"/staff/cases/P7/files/{s.case_file}"),
        ("staff_record_no_ref", "GET", "/staff/subjects/person/V0001"),
        ("staff_record_ref", "GET", "/staff/subjects/person/V0001?ref=CASE-2026-0042"),
        ("paper_scan", "GET", f"/staff/consents/{s.paper}/scan"),
        ("staff_identification", "GET", f"/staff/identification/{ORG_B}"),
        ("spotcheck_checklist", "GET", f"/staff/spotchecks/2026/{ORG_A}"),
        ("spotcheck_finding", "POST", f"/staff/spotchecks/2026/{ORG_A}"),
        ("spotcheck_report", "GET", "/staff/spotchecks/2026/report/110000.csv"),
        ("certificate_pdf", "GET", f"/me/certificates/{s.certificate}.pdf"),
        ("certificate_revoke", "POST", f"/staff/certificates/{s.certificate}/revoke"),
        ("certificate_verify", "GET", f"/verify/{s.certificate}"),
    ]


# Which (party, request) pairs may succeed; every other pair must fail.
EXPECTED = {
    ("recipient", "consent_view_valid"),
    ("subject", "consent_doc"),
    ("subject", "consent_revoke"),
    ("subject", "honour_delete"),
    # A case is its subject's; case officers work it, the case being the duty reference (BJ-23).
    *(("subject", c) for c in ("case_page", "case_document", "case_document_pdf", "case_file")),
    *(
        (party, c)
        for party in ("staff_no_duty", "staff_duty")
        for c in ("staff_case", "staff_case_document", "staff_case_file")
    ),
    ("staff_duty", "staff_record_ref"),
    ("staff_registry", "staff_identification"),
    ("subject", "certificate_pdf"),  # only the volunteer it is about (CQ-17)
    # Verification is public (CQ-17) and shows no canary (checked below for everyone else).
    *(
        (party, "certificate_verify")
        for party in (
            "anonymous",
            "subject",
            "other_subject",
            "recipient",
            "staff_no_duty",
            "staff_duty",
            "staff_registry",
        )
    ),
}


def _send(world: World, client: httpx.Client, method: str, path: str) -> httpx.Response:
    if method == "GET":
        return client.get(path)
    return world.post(client, path)


def test_authorization_matrix_bj_14_bj_23(world: World) -> None:
    """BJ-14a/b/c, BJ-23: anonymous, the subject, another subject, a consented recipient (valid,
    expired, revoked consent) and staff without and with a duty reference, against every route
    that takes an identifier: only the expected pairs succeed, and nobody not entitled sees a
    canary (PUB-1). A record certificate (CQ-17) is downloaded only by its volunteer, revoked
    by none of them (no records officer here), and verified by anyone without a canary."""
    s = _setup(world)
    unexpected, missing, leaks = [], [], []
    for party, client in s.parties.items():
        for label, method, path in _requests(s):
            if party == "staff_no_duty" and label == "staff_record_ref":
                continue  # the same staff role with a reference is the staff_duty party
            r = _send(world, client, method, path)
            ok = _succeeded(r)
            if ok and (party, label) not in EXPECTED:
                unexpected.append((party, label, r.status_code))
            if not ok and (party, label) in EXPECTED:
                missing.append((party, label, r.status_code))
            entitled = (party, label) in EXPECTED and label != "certificate_verify"
            entitled = entitled or party == "subject"
            if not entitled:
                leaks += [(party, label, v) for v in SECRET_STRINGS if v in r.text]
    assert unexpected == []
    assert missing == []
    assert leaks == []


@pytest.mark.parametrize("party", ["anonymous", "other_subject", "recipient"])
def test_no_canary_on_any_page_for_others_pub_1(world: World, party: str) -> None:
    """PUB-1, BJ-14c: every GET page a non-entitled party can reach is free of the subject's
    never-public values (the recipient's consent covers basic+service only, checked below)."""
    s = _setup(world)
    client = s.parties[party]
    pages = [
        "/search?q=林若溪",
        "/api/search?q=林若溪",
        "/me",
        "/me/consents",
        "/consents",
        "/me/access-log",
        "/login",
        "/activate",
        "/staff",
        "/staff/audit",
        "/staff/identification",
        "/staff/announcements",
        "/staff/spotchecks",
        "/me/certificates",
        "/staff/certificates",
        "/verify",
        f"/verify/{s.certificate}",
    ]
    for path in pages:
        text = client.get(path).text
        assert [v for v in SECRET_STRINGS if v in text] == [], path


def test_recipient_sees_only_the_consented_classes_bj_14c(world: World) -> None:
    """BJ-14c: basic and service were consented; training, complaints and other info were not."""
    from tests.portal.conftest import c

    s = _setup(world)
    page = s.parties["recipient"].get(f"/consents/{s.valid}")
    assert page.status_code == 200
    assert c("volunteers", "skills") in page.text  # basic
    assert c("service_records", "project") in page.text  # service
    for table, name in [
        ("trainings", "topic"),
        ("complaints", "summary"),
        ("other_info", "description"),
    ]:
        assert c(table, name) not in page.text
    assert "陈景行" in page.text and "查看时间" in page.text  # marked with the viewer and time
