"""The per-request session check reads the session and its account in one query (ASVS 3): the
same answer as the session lookup followed by the account lookup, revocation and timeouts
included, so a revoked session stops working on the very next request."""

from __future__ import annotations

from datetime import datetime, timedelta

from jinja2 import Environment, StrictUndefined, UndefinedError

from portal import accounts, sessions
from portal.templating import PortalEnvironment
from volcredit.store.engine import Store

T0 = datetime(2026, 11, 21, 8, 0)


def _both(store: Store, token: str, now: datetime) -> tuple[object, object]:
    with store.read() as conn:
        session, due = sessions.resolve(conn, token, now)
        account = accounts.by_id(conn, session.account_id) if session else None
        expected = (session, account, due) if session and account else None
        return sessions.resolve_with_account(conn, token, now), expected


def test_asvs3_session_with_account_equals_the_two_lookups(store: Store) -> None:
    """A live session, one due for its last-seen write, idle and absolute timeouts, a revoked
    session and an unknown token: one query answers as the two lookups do."""
    with store.write() as conn:
        account = accounts.create(
            conn,
            kind="volunteer",
            login="V0001",
            subject="V0001",
            display_name="林若溪",
            password_hash="x",
            now=T0,
        )
        token = sessions.start(conn, account.account_id, "full", T0)
        revoked = sessions.start(conn, account.account_id, "full", T0)
        sessions.revoke(conn, sessions.token_hash(revoked), T0 + timedelta(seconds=1))
    for now in (
        T0,
        T0 + timedelta(seconds=61),  # the last-seen time is due to be written
        T0 + sessions.IDLE_TIMEOUT + timedelta(seconds=1),  # idle too long
    ):
        got, expected = _both(store, token, now)
        assert got == expected
    got, _ = _both(store, token, T0)
    assert got is not None and got[1] == account and got[0].stage == "full"
    with store.write() as conn:  # kept active until past the absolute timeout
        sessions.touch(conn, sessions.token_hash(token), T0 + sessions.ABSOLUTE_TIMEOUT)
    late = T0 + sessions.ABSOLUTE_TIMEOUT + timedelta(seconds=1)
    assert _both(store, token, late) == (None, None)
    assert _both(store, revoked, T0 + timedelta(seconds=2)) == (None, None)
    assert _both(store, "no-such-token", T0) == (None, None)


def test_portal_templates_look_up_dict_fields_as_jinja_does() -> None:
    """The templates' fast path for ``row.field`` on a dict gives what stock Jinja gives:
    the item, a dict method when the name is one, and an undefined value for a missing key."""
    source = "{{ d.date }}|{{ d.get('date') }}|{{ o.real }}|{{ d.missing }}"
    values = {"d": {"date": "2026-11-21", "items": "shadowed"}, "o": 3}
    stock = Environment(undefined=StrictUndefined)
    ours = PortalEnvironment(undefined=StrictUndefined)
    lenient = "{{ d.missing is defined }}|{{ d.date }}|{{ d.items is callable }}"
    assert ours.from_string(lenient).render(values) == stock.from_string(lenient).render(values)
    assert ours.from_string(lenient).render(values) == "False|2026-11-21|True"
    for env in (stock, ours):
        try:
            env.from_string(source).render(values)
        except UndefinedError as err:
            assert "missing" in str(err)
        else:
            raise AssertionError("a missing key must stay undefined")
