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
