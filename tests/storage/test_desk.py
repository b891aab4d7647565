"""bot.storage for the librarians' desk: Release, the last message's direction (/queue), and the canned
replies sent (counted for `egov-bot stats`), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.domain import Channel, Direction, utcnow
from bot.storage import Storage


async def ticket_of(store: Storage, external_id: str = "42"):
    citizen = await store.citizens.get(Channel.TELEGRAM, external_id)
    return citizen, await store.tickets.open(citizen.id, "вопрос", "ru")


async def test_release_only_by_the_librarian_who_took_it(any_store: Storage) -> None:
    _, ticket = await ticket_of(any_store)

    not_taken = await any_store.tickets.release(ticket.id, 7)
    assert not not_taken.released and not_taken.ticket.status == "open"

    assert (await any_store.tickets.take(ticket.id, 7, "Мария")).taken
    other = await any_store.tickets.release(ticket.id, 8)
    assert not other.released and (other.ticket.status, other.ticket.taken_by) == ("taken", "Мария")

    mine = await any_store.tickets.release(ticket.id, 7)
    assert mine.released
    assert (mine.ticket.status, mine.ticket.taken_by, mine.ticket.taken_at) == ("open", None, None)
    assert (await any_store.tickets.take(ticket.id, 8, "Ержан")).taken  # anyone may take it now

    assert (await any_store.tickets.release(99, 7)).ticket is None
    await any_store.tickets.close(ticket.id, "Ержан")
    closed = await any_store.tickets.release(ticket.id, 8)
    assert not closed.released and closed.ticket.status == "closed"


async def test_two_releases_at_once_release_once(any_store: Storage) -> None:
    _, ticket = await ticket_of(any_store)
    await any_store.tickets.take(ticket.id, 7, "Мария")
    results = await asyncio.gather(*(any_store.tickets.release(ticket.id, 7) for _ in range(4)))
    assert sum(r.released for r in results) == 1


async def test_last_directions(any_store: Storage) -> None:
    _, first = await ticket_of(any_store, "1")
    _, second = await ticket_of(any_store, "2")
    _, silent = await ticket_of(any_store, "3")
    await any_store.tickets.add_message(first.id, Direction.LIBRARIAN, "ответ")
    await any_store.tickets.add_message(second.id, Direction.LIBRARIAN, "ответ")
    await any_store.tickets.add_message(second.id, Direction.CITIZEN, "ещё вопрос")

    directions = await any_store.tickets.last_directions([first.id, second.id, silent.id])

    assert directions == {first.id: Direction.LIBRARIAN, second.id: Direction.CITIZEN}
    assert await any_store.tickets.last_directions([]) == {}


async def test_canned_replies_are_recorded_and_counted(any_store: Storage) -> None:
    citizen, ticket = await ticket_of(any_store)
    for reply_id in ("call-1414", "come-with-id", "call-1414"):
        await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, "текст", author="Мария", canned=reply_id)
    await any_store.tickets.add_message(ticket.id, Direction.LIBRARIAN, "набранный ответ", author="Мария")

    assert await any_store.insights.canned_counts(utcnow() - dt.timedelta(days=1)) == [("call-1414", 2),
                                                                                       ("come-with-id", 1)]
    assert await any_store.insights.canned_counts(utcnow() + dt.timedelta(minutes=1)) == []

    await any_store.citizens.forget(citizen.id)  # the citizen's messages go; what the librarians used stays
    assert await any_store.tickets.messages(ticket.id) == []
    assert await any_store.insights.canned_counts(utcnow() - dt.timedelta(days=1)) == [("call-1414", 2),
                                                                                       ("come-with-id", 1)]
