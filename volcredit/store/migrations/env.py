"""Alembic environment: runs on the connection handed over by volcredit.store.migrate."""

from alembic import context

from volcredit.store import portal_tables  # noqa: F401 - registers the portal tables
from volcredit.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
