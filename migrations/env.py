"""Alembic environment: the URL comes from ``hemicycle db`` (or HEMICYCLE_DATABASE_URL)."""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from server.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("HEMICYCLE_DATABASE_URL")
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    """Leave out the archive's search index, which server/services/archive/search.py
    creates on first use (an FTS5 virtual table on SQLite)."""
    return not (type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIXES))


SEARCH_TABLE_PREFIXES = ("archive_fts", "archive_text")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.",
                                         poolclass=pool.NullPool)
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
