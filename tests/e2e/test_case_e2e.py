"""A bad-info case in the browser (BJ-16a–d, BJ-17a, PUB-4, PUB-6): a case officer records the
written notice and, after the organisation's statement, the decision to list; the organisation
reads the notice and objects to the published entry; the public page follows at each next build.
All in real Chromium against the served sample, with axe on each case page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from playwright.sync_api import Page
from sqlalchemy import insert

from tests.e2e.conftest import Sample, check_axe, log_in, shot, staff_log_in
from volcredit.store.schema import content_tables

ORG = "51110101MJ01735256"
ORG_NAME = "北京市东城区晓光志愿服务协会"
DECISION_NO = "东民罚〔2026〕88号"


def on(sample: Sample, day: date) -> None:
    """The portal's clock at 09:00 Beijing time on ``day`` (sessions end: log in again)."""
    clock = sample.world.clock
    clock.advance(datetime(day.year, day.month, day.day, 1) - clock.now())


def add_case(sample: Sample) -> str:
    """A general-severity penalty on the sample organisation, decided 2026-09-22, no notice yet
    (publicity at least to 2026-12-22, at most to 2027-09-22, PUB-4)."""
    with sample.world.store.write() as conn:
        conn.execute(
            insert(content_tables["penalties"]).values(
                case_id="VP-E2E-1",
                subject_kind="organisation",
                subject=ORG,
                category=2,
                facts="组织志愿服务活动时向服务对象收取费用",
                decision_no=DECISION_NO,
                authority="北京市东城区民政局",
                decided_on=date(2026, 9, 22),
                procedure="general",
                severity="general",
                source_line=999,
            )
        )
    return "VP-E2E-1"


def disclosure(page: Page, sample: Sample, case_id: str) -> str:
    """The public disclosure entry of ``case_id`` after a build ('' if not published)."""
    sample.rebuild()
    page.goto(f"{sample.base}/disclosures/")
    entry = page.locator(f'[id="{case_id}"]')
    return entry.inner_text() if entry.count() else ""


def fill_step(page: Page, summary: str, fields: dict[str, str], button: str) -> None:
    """Open a step's section on a case page, fill its texts, submit it."""
    section = page.locator("details.vc-step", has_text=summary).first
    if section.get_attribute("open") is None:  # closed: a person opens it
        section.locator("summary").click()
    for label, value in fields.items():
        section.get_by_label(label, exact=False).fill(value)
    section.get_by_role("button", name=button).click()


def test_case_from_notice_to_objection_in_the_browser_bj_16_bj_17a(
    sample: Sample, new_page: Any
) -> None:
    case_id = add_case(sample)
    world = sample.world
    secret = world.account("staff", "officer-e2e", "办案人员", ("case_officer",))
    world.account("organisation", ORG, ORG_NAME)

    # 2026-11-23, a Monday: the officer records the written notice (BJ-16a).
    on(sample, date(2026, 11, 23))
    officer = new_page()
    staff_log_in(officer, sample, "officer-e2e", secret)
    officer.goto(f"{sample.base}/staff/cases")
    officer.get_by_role("link", name=case_id).first.click()
    assert "待告知" in officer.content()
    fill_step(
        officer,
        "书面告知",
        {"理由": "经查证属实", "依据": "《北京市志愿服务管理办法》"},
        "提交：书面告知",
    )
    officer.wait_for_url(f"**/staff/cases/{case_id}#history")
    assert "2026-12-07" in officer.inner_text("main")  # 10 working days (BJ-16b)
    assert check_axe(officer) == []
    shot(officer, "staff-case")
    assert DECISION_NO not in disclosure(officer, sample, case_id)  # not listed yet (BJ-16d)

    # The organisation reads the notice and files a statement the next day.
    on(sample, date(2026, 11, 24))
    org = new_page()
    log_in(org, sample.base, ORG)
    org.goto(f"{sample.base}/me")
    org.get_by_role("link", name=case_id, exact=False).first.click()
    org.get_by_role("link", name="列入不良信息告知书", exact=False).first.click()
    notice = org.inner_text("main")
    for part in ("事实", "理由", "依据", "权利", "后果", "2026年12月7日"):
        assert part in notice, part
    assert check_axe(org) == []
    shot(org, "case-notice")
    org.go_back()
    fill_step(org, "陈述申辩", {"陈述申辩意见": "费用为场地押金，已全部退还"}, "提交：陈述申辩")
    org.wait_for_url(f"**/me/cases/{case_id}#history")
    assert "陈述申辩核查中" in org.inner_text("main")
    assert check_axe(org) == []

    # 2026-11-25: the officer decides to list (BJ-16c); the next build publishes it (PUB-4).
    on(sample, date(2026, 11, 25))
    staff_log_in(officer, sample, "officer-e2e", secret)
    officer.goto(f"{sample.base}/staff/cases/{case_id}")
    fill_step(officer, "决定列入", {"理由": "押金未按规定公示"}, "提交：决定列入")
    officer.wait_for_url(f"**/staff/cases/{case_id}#history")
    public = new_page()
    listed = disclosure(public, sample, case_id)
    assert DECISION_NO in listed and "异议处理中" not in listed

    # 2026-11-26: the organisation objects to the published entry (BJ-17a); marked (PUB-6).
    on(sample, date(2026, 11, 26))
    log_in(org, sample.base, ORG)
    org.goto(f"{sample.base}/me/cases/{case_id}")
    # BJ-18: repair is closed until the minimum publicity period ends, and says from when.
    repair = org.locator("details.vc-step", has_text="申请信用修复")
    if repair.get_attribute("open") is None:
        repair.locator("summary").click()
    assert "自 2026-12-23 起才能申请信用修复" in org.inner_text("main")
    fill_step(
        org,
        "对公开信息提出异议",
        {"异议内容及理由": "押金已退还，不属于收费"},
        "提交：对公开信息提出异议",
    )
    org.wait_for_url(f"**/me/cases/{case_id}#history")
    assert "异议处理中" in org.inner_text("main")
    shot(org, "case-subject")
    marked = disclosure(public, sample, case_id)
    assert DECISION_NO in marked and "异议处理中" in marked
    shot(public, "disclosures-objection")
    assert check_axe(public) == []
    # Seven working days for the answer: 11-27, 11-30, 12-01..12-04, 12-07 (BJ-17a).
    staff_log_in(officer, sample, "officer-e2e", secret)
    officer.goto(f"{sample.base}/staff/cases/{case_id}")
    assert "2026-12-07" in officer.inner_text("main")

    # An answer without its text is refused beside the field at fault.
    officer.goto(f"{sample.base}/staff/cases/{case_id}")
    section = officer.locator("details.vc-step", has_text="异议不成立")
    section.locator("summary").click()
    field = section.get_by_label("书面答复")
    field.evaluate("el => el.removeAttribute('required')")  # as a browser without validation
    section.get_by_role("button", name="提交：异议不成立").click()
    error = officer.locator(".vc-field--error .vc-error")
    assert "请填写书面答复" in error.first.inner_text()
    assert officer.locator("textarea[aria-invalid=true]").count() == 1
    assert check_axe(officer) == []
