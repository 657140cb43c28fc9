"""A scratch PostgreSQL database per test: created from the admin connection, dropped after."""
from __future__ import annotations

import contextlib
import secrets

import sqlalchemy


@contextlib.contextmanager
def scratch_database(postgres_url: str):
    """Yield the URL of a new, empty database; drop it (and its connections) afterwards."""
    name = f"hemicycle_test_{secrets.token_hex(6)}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sqlalchemy.engine.make_url(postgres_url).set(database=name) \
            .render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
