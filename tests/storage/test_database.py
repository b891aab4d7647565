"""bot.storage.database: the database URL, and data that outlives the process."""

from __future__ import annotations

from pathlib import Path

from bot.domain import Channel
from bot.storage import Storage, default_database_url


async def test_data_survives_a_new_store(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite3'}"
    store = Storage.from_url(url)
    try:
        await store.create_schema()
        citizen = await store.citizens.get(Channel.TELEGRAM, "7")
        ticket = await store.tickets.open(citizen.id, "вопрос", "ru")
    finally:
        await store.dispose()
    restarted = Storage.from_url(url)
    try:
        await restarted.create_schema()  # idempotent
        assert await restarted.tickets.get(ticket.id) == ticket
        assert (await restarted.citizens.get(Channel.TELEGRAM, "7")).id == citizen.id
    finally:
        await restarted.dispose()


def test_default_database_url():
    assert default_database_url() == "sqlite+aiosqlite:///./egov-bot.sqlite3"
    assert default_database_url("/var/lib/bot/") == "sqlite+aiosqlite:////var/lib/bot/egov-bot.sqlite3"


async def test_a_url_without_its_driver_gets_the_asynchronous_one(tmp_path: Path):
    """DATABASE_URL=sqlite:///bot.db (or postgresql://..., postgres://...) as people write it works."""
    store = Storage.from_url(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    try:
        assert store.database.engine.url.drivername == "sqlite+aiosqlite"
        await store.create_schema()
        citizen = await store.citizens.get(Channel.TELEGRAM, "7")
        assert (await store.tickets.open(citizen.id, "вопрос", "ru")).id == 1
    finally:
        await store.dispose()
    for url in ("postgresql://egov@localhost/egov", "postgres://egov@localhost/egov"):
        server = Storage.from_url(url)  # no connection is made until the first query
        try:
            assert server.database.engine.url.drivername == "postgresql+asyncpg"
        finally:
            await server.dispose()


def test_an_unusable_url_is_a_clear_error_without_its_password():
    import pytest

    from bot.storage import StoreError

    for url in ("mysql+pymysql://egov:secret@db/egov", "postgresql+psycopg2://egov:secret@db/egov", "nonsense"):
        with pytest.raises(StoreError) as raised:
            Storage.from_url(url)
        assert "secret" not in str(raised.value) and "is not usable" in str(raised.value), url
