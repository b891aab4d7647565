"""bot.storage.suggested: answers with a knowledge-base entry and the wordings they keep, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from bot.domain import Channel, Direction, TicketStatus
from bot.storage import Storage


async def _ticket(store: Storage, question: str = "нужна бумага что я не судим", lang: str = "ru"):
    citizen = await store.citizens.get(Channel.TELEGRAM, "42")
    return citizen, await store.tickets.open(citizen.id, question, lang)


async def test_an_answer_is_a_librarian_message_and_a_suggested_wording(any_store: Storage) -> None:
    _, ticket = await _ticket(any_store)

    message, refused = await any_store.suggested.answer(ticket.id, "criminal-record", ticket.question, "ru",
                                                        "Справка о несудимости\n\n...", "Мария")

    assert refused is None
    assert (message.direction, message.entry_id, message.author, message.delivered) == (
        Direction.LIBRARIAN, "criminal-record", "Мария", False)
    assert [m.id for m in await any_store.outbox.pending_messages()] == [message.id]  # the outbox delivers it
    stored = await any_store.tickets.get(ticket.id)
    assert stored.first_reply_at == message.created_at and stored.status == TicketStatus.OPEN
    assert await any_store.tickets.last_answer(ticket.id) == ("Мария", message.created_at)
    assert await any_store.suggested.last_answer_entry(ticket.id) == "criminal-record"
    (variant,) = await any_store.suggested.variants()
    assert (variant.ticket_id, variant.entry_id, variant.lang, variant.question, variant.created_by) == (
        ticket.id, "criminal-record", "ru", ticket.question, "Мария")


async def test_the_same_entry_twice_on_a_ticket_is_stored_once_even_at_once(any_store: Storage) -> None:
    _, ticket = await _ticket(any_store)

    results = await asyncio.gather(*(any_store.suggested.answer(ticket.id, "iin", ticket.question, "ru", "ИИН", name)
                                     for name in ("Мария", "Ержан", "Гульнар")))

    assert sorted(refused or "sent" for _, refused in results) == ["repeated", "repeated", "sent"]
    assert len(await any_store.tickets.messages(ticket.id)) == 1
    assert len(await any_store.suggested.variants()) == 1
    first_reply = (await any_store.tickets.get(ticket.id)).first_reply_at
    message, refused = await any_store.suggested.answer(ticket.id, "eds-obtain", ticket.question, "ru", "ЭЦП", "Мария")
    assert refused is None and message.entry_id == "eds-obtain"
    assert (await any_store.tickets.get(ticket.id)).first_reply_at == first_reply  # the first reply stays the first
    assert [v.entry_id for v in await any_store.suggested.variants()] == ["iin", "eds-obtain"]


async def test_a_closed_ticket_gets_no_answer(any_store: Storage) -> None:
    _, ticket = await _ticket(any_store)
    await any_store.tickets.close(ticket.id, "Мария")

    assert await any_store.suggested.answer(ticket.id, "iin", ticket.question, "ru", "ИИН", "Ержан") == (None, "closed")
    assert await any_store.suggested.answer(999, "iin", "?", "ru", "ИИН", "Ержан") == (None, "closed")
    assert await any_store.tickets.messages(ticket.id) == [] and await any_store.suggested.variants() == []


async def test_a_typed_reply_after_the_entry_makes_the_last_answer_a_typed_one(any_store: Storage) -> None:
    _, ticket = await _ticket(any_store)
    await any_store.suggested.answer(ticket.id, "iin", ticket.question, "ru", "ИИН", "Мария")
    await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, "И ещё: возьмите паспорт", author="Мария")
    assert await any_store.suggested.last_answer_entry(ticket.id) is None


async def test_forget_deletes_the_citizens_wordings(any_store: Storage) -> None:
    citizen, ticket = await _ticket(any_store, "менің ЖСН қайдан білемін", "kk")
    await any_store.suggested.answer(ticket.id, "iin", ticket.question, "kk", "ЖСН", "Мария")

    await any_store.citizens.forget(citizen.id)

    assert await any_store.suggested.variants() == []
