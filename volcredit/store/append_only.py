"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on a table: the
history (BJ-23) and the access log (BJ-15) are append-only even for someone with SQL access.
Used by the migrations that create those tables."""

from __future__ import annotations

from typing import Any


def create(op: Any, table: str, rule: str) -> None:
    """Install the triggers on ``table`` (``op`` is Alembic's operations object)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION volcredit_{table}_append_only() RETURNS trigger AS $$\n"
            "BEGIN\n"
            f"    RAISE EXCEPTION '{table} is append-only ({rule}): % refused', TG_OP;\n"
            "END\n"
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION volcredit_{table}_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION volcredit_{table}_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({rule})'); END"
            )


def drop(op: Any, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS volcredit_{table}_append_only()")
