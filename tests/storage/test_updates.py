"""bot.storage.updates: each update handled once, flood counts over every instance, unfinished updates taken over."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import text

from bot.domain import Channel, utcnow
from bot.storage import Storage

from .helpers import StatementCounter


async def test_a_repeated_update_id_is_new_only_once(any_store: Storage) -> None:
    assert await any_store.updates.admit(77) == 0  # no chat: nothing to count
    results = await asyncio.gather(any_store.updates.admit(77), any_store.updates.admit(78, 5), any_store.updates.admit(78, 5))
    assert results == [None, 1, None]


async def test_a_chats_messages_are_counted_over_a_minute_and_over_instances(any_store: Storage) -> None:
    other = Storage.from_url(any_store.url)  # a second instance on the same database
    try:
        alone = [await any_store.updates.admit(1, 501), await other.updates.admit(2, 501), await any_store.updates.admit(3, 502)]
        together = await asyncio.gather(any_store.updates.admit(4, 501), any_store.updates.admit(5, 501), any_store.updates.admit(6, 502))
        assert alone == [1, 2, 1] and list(together) == [3, 4, 2]
        async with any_store.database.engine.begin() as connection:  # a minute later
            await connection.execute(text("UPDATE processed_updates SET created_at = :t"),
                                     {"t": utcnow() - dt.timedelta(seconds=61)})
        assert await other.updates.admit(7, 501) == 1
    finally:
        await other.dispose()


async def test_an_unfinished_update_of_another_process_is_taken_over_once(any_store: Storage) -> None:
    killed = Storage.from_url(any_store.url)  # the process that was killed mid-way
    try:
        assert await killed.updates.admit(10, 501) == 1 and await killed.updates.admit(11, 501) == 2
        await killed.updates.finish(11)
    finally:
        await killed.dispose()
    assert await any_store.updates.admit(10, 501) is None  # webhook mode: never taken over (the default)
    assert await any_store.updates.admit(10, 501, take_over_after=0) is not None  # polling: handled here after all
    assert await any_store.updates.admit(10, 501, take_over_after=0) is None  # ... once
    assert await any_store.updates.admit(11, 501, take_over_after=0) is None  # finished: a plain duplicate
    await any_store.updates.finish(10)
    other = Storage.from_url(any_store.url)
    try:
        assert await other.updates.admit(10, 501, take_over_after=0) is None
    finally:
        await other.dispose()


async def test_intake_reads_the_citizen_and_open_tickets_with_the_update(any_store: Storage) -> None:
    known = await any_store.citizens.get(Channel.TELEGRAM, "501", first_name="Айгуль")
    ticket = await any_store.tickets.open(known.id, "вопрос", "ru")
    counter = StatementCounter(any_store)
    first, stranger, renamed = await asyncio.gather(
        any_store.updates.intake(1, 501, Channel.TELEGRAM, "501", first_name="Айгуль"),
        any_store.updates.intake(2, 502, Channel.TELEGRAM, "502", first_name="Новый"),
        any_store.updates.intake(3, 501, Channel.TELEGRAM, "501", first_name="Айгерим"))
    assert first.seen == 1 and first.citizen == known and [t.id for t in first.open_tickets] == [ticket.id]
    assert stranger.seen == 1 and stranger.citizen is None  # created by citizen() when a handler needs it
    assert renamed.seen == 2 and renamed.citizen is None  # the new name is written by citizen()
    assert len([s for s in counter.statements if not s.startswith(("BEGIN", "COMMIT"))]) == 4  # one transaction
    assert await any_store.updates.intake(1, 501, Channel.TELEGRAM, "501") is None  # a duplicate
    assert await any_store.citizens.get(Channel.TELEGRAM, "502") != known


async def test_unfinished_updates_are_given_back_to_the_next_process_and_forgotten_on_request(any_store: Storage) -> None:
    killed = Storage.from_url(any_store.url)
    try:
        await killed.updates.admit(20, 501, payload='{"update_id": 20}')
        await killed.updates.admit(21, 501, payload='{"update_id": 21}')
        await killed.updates.admit(22, 502, payload='{"update_id": 22}')
        await killed.updates.finish(21)
        assert await killed.updates.unfinished() == []  # its own updates are still in its hands
    finally:
        await killed.dispose()
    assert await any_store.updates.unfinished() == [(20, '{"update_id": 20}'), (22, '{"update_id": 22}')]
    assert await any_store.updates.admit(20, 501, take_over_after=0) is not None
    await any_store.updates.finish(20)
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "502")
    await any_store.citizens.forget(citizen.id)  # what they wrote and the bot has not handled yet goes too
    assert await any_store.updates.unfinished() == []


async def test_a_turned_away_duplicate_does_not_finish_the_original(any_store: Storage) -> None:
    """The same update reached two instances: the one that turned it away must not mark it finished while
    the other is still handling it."""
    other = Storage.from_url(any_store.url)
    try:
        assert await any_store.updates.admit(30, 501, payload="{}") == 1
        assert await other.updates.admit(30, 501, payload="{}") is None
        await other.updates.finish(30)
        assert [u for u, _ in await other.updates.unfinished()] == [30]
        await any_store.updates.finish(30)
        assert await other.updates.unfinished() == []
    finally:
        await other.dispose()


async def test_webhook_instances_take_over_only_from_a_silent_instance(any_store: Storage) -> None:
    """Webhook instances run side by side: one takes over another's unfinished update only after that one
    stopped writing heartbeats for the given time."""
    gone = Storage.from_url(any_store.url)
    try:
        await gone.updates.heartbeat()
        assert await gone.updates.admit(50, 501, payload='{"update_id": 50}') == 1
    finally:
        await gone.dispose()
    await any_store.updates.heartbeat()
    assert await any_store.updates.unfinished(silent_for=60) == []  # still counted as alive
    assert await any_store.updates.admit(50, 501, take_over_after=60) is None
    async with any_store.database.engine.begin() as connection:  # two minutes without a heartbeat
        await connection.execute(text("UPDATE instances SET seen_at = :t WHERE id = :i"),
                                 {"t": utcnow() - dt.timedelta(seconds=120), "i": gone.updates.instance})
    assert await any_store.updates.unfinished(silent_for=60) == [(50, '{"update_id": 50}')]
    assert await any_store.updates.admit(50, 501, take_over_after=60) is not None
    assert await any_store.updates.unfinished(silent_for=60) == []  # now in this instance's hands


async def test_old_updates_and_silent_instances_are_purged(any_store: Storage) -> None:
    await any_store.updates.heartbeat()
    await any_store.updates.admit(60, 501)
    async with any_store.database.engine.begin() as connection:
        await connection.execute(text("INSERT INTO instances (id, seen_at) VALUES ('long-gone', :t)"),
                                 {"t": utcnow() - dt.timedelta(days=3)})
        await connection.execute(text("INSERT INTO processed_updates (update_id, created_at, finished) VALUES (59, :t, :f)"),
                                 {"t": utcnow() - dt.timedelta(days=3), "f": True})
    await any_store.updates.purge(utcnow() - dt.timedelta(days=2))
    async with any_store.database.engine.begin() as connection:
        instances = (await connection.execute(text("SELECT id FROM instances"))).all()
        updates = (await connection.execute(text("SELECT update_id FROM processed_updates"))).all()
    assert [i for (i,) in instances] == [any_store.updates.instance] and [u for (u,) in updates] == [60]
