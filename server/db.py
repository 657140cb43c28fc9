"""SQLAlchemy engine and session, as a tiny extension with ``init_app``.

One scoped session per thread or greenlet (eventlet and gevent patch thread
locals), removed at the end of every request, socket event and CLI command.
"""
from __future__ import annotations

import logging

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

log = logging.getLogger(__name__)
_SCRUB = "hemicycle.scrub_tables"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets tablets read while a vote is being written; foreign keys
            # are off by default in SQLite.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten with zeros, not left in free space: sealed
            # ballots and their keys are erased at closing (docs/VOTING.md).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def rollback_quietly(self) -> None:
        """Roll back, even when the database has gone away (then drop the session: the pool
        replaces its connection)."""
        try:
            self.session.rollback()
        except OperationalError:
            self.session.remove()

    def scrub_after_commit(self, *tables: str) -> None:
        """Once this transaction has committed, wipe what it deleted from ``tables`` for good.

        SQLite (``secure_delete`` already zeroed the rows in the file): a
        truncating WAL checkpoint, so no earlier version of a page stays in the
        ``-wal`` file. PostgreSQL: ``VACUUM FULL`` of the tables, which rewrites
        them without their dead rows. Best effort: a busy database is logged, not
        an error (the next scrub catches up). What neither erases is in
        docs/VOTING.md.
        """
        session = self.session()
        if _SCRUB not in session.info:
            session.info[_SCRUB] = set()
            event.listen(session, "after_commit", _scrub, once=True)
        session.info[_SCRUB].update(tables)

    def init_app(self, app) -> None:
        if self.engine is not None:
            self.session.remove()
            self.engine.dispose()
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.configure(bind=self.engine)
        app.extensions["hemicycle.db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc):
            self.session.remove()


def _scrub(session: Session) -> None:
    tables = sorted(session.info.pop(_SCRUB, ()))
    engine = session.get_bind()
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA busy_timeout=1000")
                busy, *_frames = connection.exec_driver_sql(
                    "PRAGMA wal_checkpoint(TRUNCATE)").one()
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")
            if busy:
                log.warning("the WAL was busy: not truncated after erasing %s", tables)
        elif engine.dialect.name == "postgresql" and tables:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("SET lock_timeout = '5s'")
                connection.exec_driver_sql(f"VACUUM FULL {', '.join(tables)}")
    except DBAPIError as exc:
        log.warning("erasing %s: %s", tables, str(exc).splitlines()[0])
