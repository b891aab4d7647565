"""bot.storage.outbox: cards, messages and notices are each delivered by one instance only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain import Channel, Direction
from bot.storage import Storage

from .helpers import sql


async def test_ticket_keeps_the_citizens_question_and_waits_for_its_card(store: Storage, db_path: Path):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    ticket = await store.tickets.open(citizen.id, "где взять справку", "ru")
    rows = sql(db_path, "SELECT id, question, status, card_message_id FROM tickets")
    assert rows == [(ticket.id, "где взять справку", "open", None)]
    assert [t.id for t in await store.outbox.cards_to_post()] == [ticket.id]
    await store.outbox.card_posted(ticket.id, 501)
    assert await store.outbox.cards_to_post() == []
    assert (await store.tickets.for_group_message(501)).id == ticket.id


async def test_two_instances_never_deliver_the_same_thing_twice(any_store: Storage) -> None:
    other = Storage.from_url(any_store.url)  # a second bot instance on the same database
    try:
        citizen = await any_store.citizens.get(Channel.TELEGRAM, "505")
        ticket = await any_store.tickets.open(citizen.id, "вопрос", "ru")
        messages = [await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, f"ответ {n}") for n in range(10)]
        claims = await asyncio.gather(*(store.outbox.claim_message(m.id) for m in messages for store in (any_store, other)))
        assert sum(claims) == len(messages)  # each message claimed by exactly one instance
        assert await any_store.outbox.pending_messages() == []  # claimed messages are not due for a while

        cards = await asyncio.gather(any_store.outbox.claim_card(ticket.id), other.outbox.claim_card(ticket.id))
        assert sorted(cards) == [False, True]
        await any_store.outbox.release_card(ticket.id)
        assert await other.outbox.claim_card(ticket.id)

        await any_store.tickets.close(ticket.id, "Гульнар")
        notices = await asyncio.gather(any_store.outbox.claim_notice(ticket.id), other.outbox.claim_notice(ticket.id))
        assert sorted(notices, key=str) == ["closed", None] or sorted(notices, key=str) == [None, "closed"]
        assert notices.count("closed") == 1
    finally:
        await other.dispose()


async def test_a_lease_ends_and_another_instance_delivers(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "506")
    ticket = await any_store.tickets.open(citizen.id, "вопрос", "ru")
    message = await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, "ответ")
    assert await any_store.outbox.claim_message(message.id, lease=0.2)  # this instance dies before delivering
    assert not await any_store.outbox.claim_message(message.id)
    await asyncio.sleep(0.3)
    assert [m.id for m in await any_store.outbox.pending_messages()] == [message.id]
    assert await any_store.outbox.claim_message(message.id)
