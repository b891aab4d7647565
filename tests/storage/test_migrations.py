"""Alembic migrations: an empty database and a database made before migrations both end up at the models."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import cli
from alembic import command
from sqlalchemy import text

from bot.storage import Storage
from bot.storage.database import INITIAL_REVISION, alembic_config
from bot.storage.schema import Base

HEAD = "0010"


async def differences(store: Storage) -> list:
    async with store.database.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata))


async def test_migrations_build_exactly_the_models(any_store: Storage) -> None:
    fresh = Storage.from_url(any_store.url.replace("store.sqlite3", "migrated.sqlite3"))
    if "postgresql" in any_store.url:  # a second, empty database on the same server
        fresh = Storage.from_url(any_store.url)
        async with fresh.database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    try:
        await fresh.upgrade()
        await fresh.upgrade()  # twice: nothing to do the second time
        assert await differences(fresh) == []
    finally:
        await fresh.dispose()


async def test_a_database_made_before_migrations_keeps_its_tickets(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    old = Storage.from_url(url)
    await old.upgrade()  # build the first release's schema ...
    async with old.database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), INITIAL_REVISION))
        await connection.execute(text("DROP TABLE alembic_version"))  # ... as create_all made it, untracked
    async with old.database.engine.begin() as connection:  # rows as the first release wrote them (its columns only)
        await connection.execute(text("INSERT INTO citizens (id, channel, external_id, language, first_name, blocked, "
                                      "warned_private, created_at) VALUES (1, 'telegram', '1', 'ru', '', 0, 0, '2026-01-01')"))
        await connection.execute(text("INSERT INTO tickets (id, citizen_id, status, kind, lang, question, candidates, "
                                      "created_at, citizen_blocked) VALUES (1, 1, 'open', 'unmatched', 'ru', "
                                      "'старый вопрос', '[]', '2026-01-01', 0)"))
    await old.dispose()
    ticket = type("Old", (), {"id": 1})

    assert await asyncio.to_thread(cli.main, ["db", "upgrade", "--database", url]) == 0  # its own event loop
    upgraded = Storage.from_url(url)
    try:
        assert (await upgraded.tickets.get(ticket.id)).question == "старый вопрос"
        assert await differences(upgraded) == []
    finally:
        await upgraded.dispose()
    rows = sqlite3.connect(tmp_path / "old.sqlite3").execute("SELECT version_num FROM alembic_version").fetchall()
    assert rows == [(HEAD,)]


def test_db_upgrade_with_a_bad_url_is_one_line(capsys) -> None:
    assert cli.main(["db", "upgrade", "--database", "nosuchdb://x"]) == 2
    assert "Traceback" not in capsys.readouterr().err


async def test_instances_migrating_a_new_postgresql_database_at_once(postgres) -> None:
    """Several instances started together on a new database: one migrates, the others wait (advisory lock).
    (SQLite serves one process only, so this is a PostgreSQL matter.)"""
    url = postgres.create_database()
    stores = [Storage.from_url(url) for _ in range(3)]
    try:
        await asyncio.gather(*(store.upgrade() for store in stores))
        assert await differences(stores[0]) == []
    finally:
        for store in stores:
            await store.dispose()
