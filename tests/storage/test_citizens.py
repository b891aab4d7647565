"""bot.storage.citizens: found or created once, blocking the bot and coming back, /forget."""

from __future__ import annotations

import asyncio

from bot.domain import Channel, Direction, Action
from bot.storage import Storage


async def test_citizen_is_created_once(store: Storage):
    first = await store.citizens.get(Channel.CONSOLE, "aigul", language="kk", first_name="Айгүл")
    again = await store.citizens.get(Channel.CONSOLE, "aigul")
    assert again == first
    assert (first.channel, first.external_id, first.language, first.first_name) == ("console", "aigul", "kk", "Айгүл")
    other_channel = await store.citizens.get(Channel.TELEGRAM, "aigul")
    assert other_channel.id != first.id


async def test_blocked_citizen_and_forget(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "503", first_name="Болат")
    ticket = await any_store.tickets.open(citizen.id, "вопрос", "ru")
    await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, "ответ")
    await any_store.insights.log_question(citizen.id, "вопрос", "ru", Action.ESCALATE, None, 0.1)
    assert [t.id for t in await any_store.citizens.mark_blocked(citizen.id)] == [ticket.id]
    assert await any_store.outbox.pending_messages() == []
    await any_store.citizens.get(Channel.TELEGRAM, "503")  # writes again: unblocked, the answer is due again
    assert len(await any_store.outbox.pending_messages()) == 1

    assert len((await any_store.citizens.forget(citizen.id)).tickets) == 1
    assert await any_store.insights.count_questions() == 0
    assert await any_store.tickets.messages(ticket.id) == []
    assert (await any_store.tickets.get(ticket.id)).status == "withdrawn"


async def test_new_and_changed_citizens_in_a_batch(any_store: Storage) -> None:
    known = await any_store.citizens.get(Channel.TELEGRAM, "1", first_name="Старое")
    await any_store.citizens.mark_blocked(known.id)
    renamed, new, again = await asyncio.gather(any_store.citizens.get(Channel.TELEGRAM, "1", first_name="Новое"),
                                               any_store.citizens.get(Channel.TELEGRAM, "2", language="kk", first_name="Әсел"),
                                               any_store.citizens.get(Channel.TELEGRAM, "1"))
    assert renamed.id == known.id == again.id and renamed.first_name == "Новое" and not renamed.blocked
    assert new.id != known.id and new.language == "kk"
