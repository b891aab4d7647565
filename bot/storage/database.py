"""The database: its URL, the engine and sessions every storage concern shares, and the schema's migrations."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.schema import Base

INITIAL_REVISION = "0001"  # the schema as of the first release with migrations


class StoreError(Exception):
    """The database cannot be used (a wrong URL, a missing folder, a server that does not answer)."""


def default_database_url(directory: str = ".") -> str:
    return f"sqlite+aiosqlite:///{directory.rstrip('/')}/egov-bot.sqlite3"


def alembic_config(connection):
    """Alembic's configuration for bot/storage/migrations, working on this (synchronous) connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def _sqlite_settings(connection, _record) -> None:
    """Write-ahead log: readers never wait for the writer, and a commit needs no disk flush (a kill -9
    loses nothing; only a power cut can lose the last commits). Wait up to 5 s for a busy database."""
    cursor = connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


async def _aiosqlite_threads_ended(within: float = 1.0) -> None:
    """After a failed SQLite connect, aiosqlite's worker thread still hands its stop back to the event loop:
    if a short command closes the loop first, that thread dies with a traceback on stderr. Wait for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while any(t.name.endswith("(_connection_worker_thread)") for t in threading.enumerate()):
        if loop.time() > deadline:
            return
        await asyncio.sleep(0.01)


# The asynchronous drivers egov-bot installs, for URLs that name a database without its driver.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class Database:
    """One engine and its session factory. Each storage method owns its session:
    `async with database.sessions.begin() as session:`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> "Database":
        """hide_parameters: a database error in the logs never carries what a citizen wrote. A URL without its
        driver ("sqlite:///bot.db", "postgresql://...") gets the asynchronous one egov-bot ships with."""
        shown = url
        try:
            parsed = make_url(url)
            shown = parsed.render_as_string(hide_password=True)
            parsed = parsed.set(drivername=ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
            if parsed.get_backend_name() == "sqlite":
                # One connection: SQLite has one writer anyway, and transactions that read and then write
                # could otherwise fail with "database is locked" when handlers run concurrently.
                engine = create_async_engine(parsed, pool_size=1, max_overflow=0, pool_timeout=60, hide_parameters=True)
                event.listen(engine.sync_engine, "connect", _sqlite_settings)
            else:  # a server can restart: each connection is checked before use
                engine = create_async_engine(parsed, pool_pre_ping=True, hide_parameters=True)
            return cls(engine)
        except (ArgumentError, NoSuchModuleError, InvalidRequestError, ImportError) as error:
            raise StoreError(f"the database URL {shown!r} is not usable ({type(error).__name__}): "
                             "use e.g. sqlite:///egov-bot.sqlite3 or postgresql://user@host/egov") from None

    def insert(self, table: Table):
        """INSERT with ON CONFLICT support, in this database's dialect."""
        return (postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(table)

    async def create_schema(self) -> None:
        """The tables straight from the models, marked as the newest migration (tests and throw-away databases)."""
        from alembic import command

        def run(connection) -> None:
            Base.metadata.create_all(connection)
            command.stamp(alembic_config(connection), "head")

        await self._run("open", run)

    async def upgrade(self) -> None:
        """Bring the database schema up to date with the Alembic migrations in bot/storage/migrations.

        A database made before migrations existed (its tables were created directly) is first marked
        as being at the initial revision, so that nothing in it is recreated or lost.
        """
        from alembic import command
        from sqlalchemy import inspect

        def run(connection) -> None:
            if connection.dialect.name == "postgresql":
                # Instances starting together on a new database: one migrates, the others wait for it.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(420250)")
            config = alembic_config(connection)
            tables = set(inspect(connection).get_table_names())
            if "tickets" in tables and "alembic_version" not in tables:
                command.stamp(config, INITIAL_REVISION)
            command.upgrade(config, "head")

        await self._run("upgrade", run)

    async def _run(self, doing: str, run) -> None:
        """Run a schema step in one transaction; a database that cannot be reached is a StoreError."""
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(run)
        except (DBAPIError, OSError) as error:
            await _aiosqlite_threads_ended()
            reason = " ".join(str(getattr(error, "orig", error)).split())
            raise StoreError(f"cannot {doing} the database {self.engine.url.render_as_string()}: {reason}") from None

    async def dispose(self) -> None:
        await self.engine.dispose()
