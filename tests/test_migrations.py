"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.cli.database import alembic_config
from server.models import Base
from tests.pg import scratch_database


def _upgrade_and_compare(url: str) -> None:
    from alembic import command

    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_migrations_on_sqlite(tmp_path):
    _upgrade_and_compare(f"sqlite:///{tmp_path / 'migrated.db'}")


def test_migrations_on_postgresql(postgres_url):
    with scratch_database(postgres_url) as url:
        _upgrade_and_compare(url)
