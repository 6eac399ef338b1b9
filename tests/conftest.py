"""Shared fixtures: a real store on SQLite and on PostgreSQL for every store test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from volcredit.store.engine import Store, open_store

PG_URL = os.environ.get(
    "VOLCREDIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """The PostgreSQL server's URL. Missing PostgreSQL fails the run unless explicitly skipped."""
    problem = _pg_available()
    if problem:
        if os.environ.get("VOLCREDIT_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL skipped on request (VOLCREDIT_SKIP_POSTGRES=1): {problem}")
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {problem}")
    yield PG_URL


@pytest.fixture
def pg_url(postgres_admin: str) -> Iterator[str]:
    """A URL to a fresh, empty schema of the test PostgreSQL database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{postgres_admin}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store, once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.dispose()
