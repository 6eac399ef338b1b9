"""Opening the store: a SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with a ``busy_timeout``, and every write transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing mid-transaction.
Read transactions stay deferred, so readers never block a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "volcredit_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits for the write lock, may time out
        else:
            # A deferred BEGIN takes no lock, so it cannot wait or fail: issued straight on the
            # driver's connection, without SQLAlchemy's statement machinery (two per request).
            conn.connection.driver_connection.execute("BEGIN")


def safe_error_message(error: BaseException) -> str:
    """One line about a database error for people: the driver's first line, never row values.

    The engine hides bound parameters; PostgreSQL puts row values in the DETAIL lines, which are
    dropped here.
    """
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()
    return f"{type(original).__name__}: {first[0] if first else ''}"


class Store:
    """A handle on one store: ``read()`` and ``write()`` give transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        # hide_parameters: an error message never carries row values (ID numbers, phones).
        if self.dialect == "sqlite":
            self.engine = create_engine(url, hide_parameters=True)
            _sqlite_hooks(self.engine)
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        else:
            raise ValueError(f"不支持的数据库：{self.dialect}（只支持 SQLite 和 PostgreSQL）")

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred on SQLite)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one consistent state throughout (a build reads many
        tables; a load committing meanwhile must not mix into it)."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite; committed on success."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url``, bringing its schema up to date unless ``migrate`` is False."""
    store = Store(url)
    if migrate:
        from volcredit.store.migrate import upgrade

        upgrade(store)
    return store
