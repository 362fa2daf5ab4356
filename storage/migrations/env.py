"""Alembic environment: migrations run on the connection the application hands over (see storage.db)."""

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI path; we always migrate through storage.db.Database.open
    raise SystemExit("run migrations through tuanbot (storage.db.Database.open), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
