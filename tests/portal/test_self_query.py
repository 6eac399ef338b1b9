"""Self-query over HTTP (BJ-14b, CQ-6–13, HN-2b, CQ-19, BJ-17b, BJ-15)."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import select

from tests.portal.conftest import ADULT_ID, PASSWORD, TODAY, World, c
from volcredit import publication
from volcredit.rules.masking import MaskKind, mask
from volcredit.store.schema import history


def _text(html: str, selector: str) -> str:
    node = BeautifulSoup(html, "html.parser").select_one(selector)
    assert node is not None, selector
    return " ".join(node.get_text(" ").split())


def test_record_shows_every_part_held_cq_6_to_13_bj_14b(world: World) -> None:
    """CQ-6/7, CQ-8, CQ-10, CQ-11, CQ-12, CQ-13, BJ-10: basic info, service records with their
    evaluation, training, honours, complaints, cases and other info are all on /me."""
    page = world.volunteer().get("/me").text
    basic = _text(page, "#basic")
    assert mask(MaskKind.ID_NUMBER, ADULT_ID) in basic and ADULT_ID not in page
    assert c("volunteers", "skills") in basic and c("volunteers", "phone") in basic
    service = _text(page, "#service")
    assert c("service_records", "recipients") in service and "5/5/4" in service  # CQ-10
    assert c("trainings", "contact_person") in _text(page, "#training")  # CQ-11
    assert "优秀志愿者" in _text(page, "#honours")  # CQ-12
    assert c("complaints", "outcome") in _text(page, "#complaints")  # CQ-13
    assert c("other_info", "description") in _text(page, "#other")  # BJ-10


def test_excluded_record_explained_and_not_counted_hn_2b_cq_19(world: World) -> None:
    """HN-2b, CQ-9, CQ-19: the duty-shift record (kind 2) shows why it does not count; the total
    and the star level use only the 3.5 qualifying hours."""
    service = _text(world.volunteer().get("/me").text, "#service")
    assert "有效服务时长 3.5 小时" in service
    assert "未达到一星" in service and "还差 96.5 小时" in service
    assert "不计入时长：本单位、学校内部规定要求的活动（HN-2b 第2项）" in service
    assert "共 2 条，其中 1 条不计入时长" in service


def test_full_id_number_needs_the_password_and_is_logged_bj_14b_bj_15(world: World) -> None:
    """BJ-14b, BJ-15: the full ID number only after re-entering the password; that view is in
    the subject's access log, a failed try is not and shows no number."""
    me = world.volunteer()
    wrong = world.post(me, "/me/id-number", {"password": "not-my-password-at-all"})
    assert wrong.status_code == 400 and ADULT_ID not in wrong.text
    assert "密码不正确" in _text(wrong.text, ".vc-field--error")
    assert "完整证件号码" not in _text(me.get("/me/access-log").text, "table")
    right = world.post(me, "/me/id-number", {"password": PASSWORD})
    assert right.status_code == 200 and ADULT_ID in right.text
    assert right.headers["cache-control"] == "no-store"
    log = _text(me.get("/me/access-log").text, "table")
    assert "完整证件号码" in log and "本人查询" in log


def test_deletion_request_appends_event_and_site_drops_honour_bj_17b(world: World) -> None:
    """BJ-17b: the person asks to delete a published honour; an attributable event is appended
    and the public projection (what the next build publishes) no longer holds it."""
    me = world.volunteer()
    with world.store.read() as conn:
        assert "H1" in {h.honour_id for h in publication.honours(conn, TODAY)}
    r = world.post(me, "/me/honours/H1/delete")
    assert r.status_code == 303
    with world.store.read() as conn:
        events = conn.execute(select(history).where(history.c.ref == "H1")).all()
        assert [(e.event, e.source) for e in events] == [("deletion_requested", "portal")]
        assert events[0].actor.startswith("portal:")
        assert "H1" not in {h.honour_id for h in publication.honours(conn, TODAY)}
    assert "已于 2026-11-21 申请删除" in _text(me.get("/me").text, "#honours")
    world.post(me, "/me/honours/H1/delete")  # asking twice appends nothing more
    with world.store.read() as conn:
        assert len(conn.execute(select(history).where(history.c.ref == "H1")).all()) == 1


def test_organisation_sees_its_cases_with_state_and_deadline_bj_14b(world: World) -> None:
    """BJ-14b, BJ-16: an organisation's records officer sees its bad-info case with its state,
    next deadline and public state, and its contact data that the site never shows."""
    page = world.organisation().get("/me").text
    cases = _text(page, "#cases")
    assert "P1" in cases and "状态" in cases and "网站公示" in cases
    assert c("organisations", "address") in _text(page, "#basic")
    assert "#service" not in page and 'id="service"' not in page
