"""One load at a time per store (DESIGN.md, CLI contract): a second one is refused clearly."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from volcredit.importer.locking import LoadBusy, load_lock
from volcredit.store.engine import Store, open_store


def test_second_load_on_the_same_store_is_refused(store: Store) -> None:
    other = open_store(store.url, migrate=False)
    try:
        with load_lock(store), pytest.raises(LoadBusy, match="另一个导入"), load_lock(other):
            pass
        with load_lock(other):  # released: the next load may run
            pass
    finally:
        other.dispose()


@pytest.mark.postgres
def test_stores_in_other_schemas_do_not_block_each_other(postgres_admin: str) -> None:
    """Two stores in one PostgreSQL database (different schemas) load independently."""
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE SCHEMA {name}"))
    urls = [f"{postgres_admin}?options=-csearch_path%3D{n}" for n in names]
    stores = [open_store(u, migrate=False) for u in [*urls, urls[0]]]
    try:
        # the second schema is not blocked by the first; the first store again is
        with (
            load_lock(stores[0]),
            load_lock(stores[1]),
            pytest.raises(LoadBusy),
            load_lock(stores[2]),
        ):
            pass
    finally:
        for s in stores:
            s.dispose()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()
