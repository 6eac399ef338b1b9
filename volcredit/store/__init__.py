"""The store: SQLAlchemy tables, Alembic migrations, engines and the event history."""
