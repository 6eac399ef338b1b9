"""Activation with a one-time code, and login (issue 4, ASVS 2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal.notifier import OutboxNotifier
from tests.builders import ORG_A
from tests.portal.conftest import ADULT_ID, World, c

STRONG = "velvet-compass-harbor-312"


def _claim(world: World, **over: str):  # type: ignore[no-untyped-def]
    cl = world.client()
    data = {
        "kind": "volunteer",
        "login": "V0001",
        "name": "林若溪",
        "secret_fact": ADULT_ID,
        **over,
    }
    return cl, world.post(cl, "/activate", data)


def test_volunteer_activates_then_logs_in(world: World) -> None:
    """A volunteer activates with number + name + ID number + a code sent to the registered
    phone, sets a strong password, and logs in."""
    cl, r = _claim(world, secret_fact=ADULT_ID.lower())
    assert r.status_code == 200
    code = world.outbox.last_code(c("volunteers", "phone"))
    weak = {
        "kind": "volunteer",
        "login": "V0001",
        "code": code,
        "password": "password1234",
        "confirm": "password1234",
    }
    r = world.post(cl, "/activate/confirm", weak)
    assert r.status_code == 400 and "太常见" in r.text
    short = {**weak, "password": "Ab1!", "confirm": "Ab1!"}
    assert "至少 12 个字符" in world.post(cl, "/activate/confirm", short).text
    good = {**weak, "password": STRONG, "confirm": STRONG}
    r = world.post(cl, "/activate/confirm", good)
    assert r.status_code == 303 and r.headers["location"] == "/login?activated=1"
    assert world.login("V0001", STRONG).get("/me").status_code == 200
    assert world.post(cl, "/activate/confirm", good).status_code == 400  # the code is spent


def test_wrong_claim_gets_the_same_answer_and_no_code(world: World) -> None:
    """No account enumeration: a wrong ID number gets the same page, and nothing is sent."""
    _cl, right = _claim(world, login="V0002", name="陈景行", secret_fact="wrong")
    assert right.status_code == 200 and world.outbox.messages == []
    _cl, unknown = _claim(world, login="V9999")
    assert "验证码已发送" in unknown.text and world.outbox.messages == []


def test_code_expires_after_ten_minutes(world: World) -> None:
    cl, _ = _claim(world)
    code = world.outbox.last_code(c("volunteers", "phone"))
    world.clock.advance(timedelta(minutes=11))
    form = {
        "kind": "volunteer",
        "login": "V0001",
        "code": code,
        "password": STRONG,
        "confirm": STRONG,
    }
    r = world.post(cl, "/activate/confirm", form)
    assert r.status_code == 400 and "验证码不正确或已失效" in r.text


def test_organisation_activates_with_uscc_and_legal_representative(world: World) -> None:
    cl, _ = _claim(
        world,
        kind="organisation",
        login=ORG_A.lower(),
        name="东城区阳光志愿者协会",
        secret_fact="周文澜",
    )
    code = world.outbox.last_code(c("organisations", "contact_phone"))
    form = {
        "kind": "organisation",
        "login": ORG_A,
        "code": code,
        "password": STRONG,
        "confirm": STRONG,
    }
    assert world.post(cl, "/activate/confirm", form).status_code == 303
    assert "东城区阳光志愿者协会" in world.login(ORG_A, STRONG).get("/me").text


def test_outbox_notifier_writes_owner_only_files(tmp_path: Path) -> None:
    """The default notifier writes each message to the outbox folder, readable by its owner."""
    from datetime import datetime

    box = OutboxNotifier(tmp_path / "outbox")
    box.send("13800000000", "验证码", "您的验证码是 123456", datetime(2026, 11, 21, 1, 0))
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and (files[0].stat().st_mode & 0o777) == 0o600
    assert "123456" in files[0].read_text(encoding="utf-8")
