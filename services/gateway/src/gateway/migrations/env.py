"""Alembic environment: uses the connection handed over by `gateway.db.migrate`, or
GATEWAY_DATABASE_URL / the default SQLite file when run through the `alembic` CLI."""

from alembic import context
from sqlalchemy import create_engine

from gateway.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from gateway.settings import Settings

    url = config.get_main_option("sqlalchemy.url") or Settings().effective_database_url
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
