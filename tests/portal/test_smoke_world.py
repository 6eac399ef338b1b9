"""The world fixture itself works: a volunteer logs in and sees their own record (BJ-14b)."""

from tests.portal.conftest import World, c


def test_volunteer_sees_own_never_public_fields_bj_14b(world: World) -> None:
    """BJ-14b: the subject sees everything held, public or not (canaries included)."""
    me = world.volunteer()
    page = me.get("/me")
    assert page.status_code == 200
    for name in ("skills", "phone"):
        assert c("volunteers", name) in page.text
    assert c("complaints", "summary") in page.text
    assert c("trainings", "topic") in page.text
