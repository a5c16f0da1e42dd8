"""Alembic environment. Migrations always run on a connection handed in by ``storage.migrate``,
so the async engine, its SQLite pragmas and its URL come from one place."""

from __future__ import annotations

from alembic import context

from storage.migrate import include_object_on
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `wenzheng db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object_on(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
