"""bot.storage.tickets: the librarian queue, on SQLite under tmp_path and (any_store) on PostgreSQL too."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.domain import Channel, Direction, TicketKind, utcnow
from bot.storage import Storage

from .helpers import sql


async def test_open_ticket_round_trip(store: Storage):
    citizen = await store.citizens.get(Channel.TELEGRAM, "42")
    candidates = [{"id": "eds-obtain", "score": 0.55}, {"id": "eds-renew", "score": 0.5}]
    ticket = await store.tickets.open(citizen.id, "эцқ қалай алам", "kk", candidates=candidates)
    assert ticket.id == 1
    assert (ticket.citizen_id, ticket.status, ticket.kind, ticket.lang) == (citizen.id, "open", "unmatched", "kk")
    assert ticket.question == "эцқ қалай алам"
    assert ticket.candidates == candidates
    assert ticket.entry_id is None and ticket.step is None and ticket.taken_by is None
    assert isinstance(ticket.created_at, dt.datetime)
    assert await store.tickets.get(ticket.id) == ticket


async def test_open_ticket_with_kind_entry_and_step(store: Storage):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    ticket = await store.tickets.open(citizen.id, "не получается", "ru", kind=TicketKind.STUCK, entry_id="eds-obtain", step=3)
    stored = await store.tickets.get(ticket.id)
    assert (stored.kind, stored.entry_id, stored.step, stored.candidates) == ("stuck", "eds-obtain", 3, [])


async def test_candidates_are_stored_as_readable_json(store: Storage, db_path: Path):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    await store.tickets.open(citizen.id, "вопрос", "ru", candidates=[{"id": "iin", "score": 0.4}])
    [(stored,)] = sql(db_path, "SELECT candidates FROM tickets")
    assert stored == '[{"id": "iin", "score": 0.4}]'


async def test_unknown_ticket_is_none(store: Storage):
    assert await store.tickets.get(999) is None


async def test_open_tickets_oldest_first(store: Storage, db_path: Path):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    first = await store.tickets.open(citizen.id, "первый", "ru")
    second = await store.tickets.open(citizen.id, "второй", "ru")
    third = await store.tickets.open(citizen.id, "третий", "ru")
    # The third was asked earliest (say, it was imported from another channel): it comes first.
    sql(db_path, "UPDATE tickets SET created_at = ? WHERE id = ?", "2020-01-01 00:00:00.000000", third.id)
    assert [t.id for t in await store.tickets.queue()] == [third.id, first.id, second.id]


async def test_open_tickets_with_equal_times_keep_their_order(store: Storage, db_path: Path):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    ids = [(await store.tickets.open(citizen.id, f"вопрос {n}", "ru")).id for n in range(3)]
    sql(db_path, "UPDATE tickets SET created_at = ?", "2024-05-05 10:00:00.000000")
    assert [t.id for t in await store.tickets.queue()] == ids


async def test_open_tickets_skips_closed_ones(store: Storage, db_path: Path):
    citizen = await store.citizens.get(Channel.CONSOLE, "u")
    tickets = [await store.tickets.open(citizen.id, f"вопрос {n}", "ru") for n in range(4)]
    sql(db_path, "UPDATE tickets SET status = 'closed' WHERE id = ?", tickets[0].id)
    sql(db_path, "UPDATE tickets SET status = 'withdrawn' WHERE id = ?", tickets[1].id)
    sql(db_path, "UPDATE tickets SET status = 'taken', taken_by = 'librarian' WHERE id = ?", tickets[2].id)
    waiting = await store.tickets.queue()
    assert [t.id for t in waiting] == [tickets[2].id, tickets[3].id]
    assert waiting[0].status == "taken" and waiting[0].taken_by == "librarian"


async def test_no_open_tickets(store: Storage):
    assert await store.tickets.queue() == []


async def test_ticket_life_cycle(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "501", first_name="Айгуль")
    first = await any_store.tickets.open(citizen.id, "где взять справку", "ru", candidates=[{"id": "x", "score": 0.4}])
    second = await any_store.tickets.open(citizen.id, "ещё вопрос", "kk", kind=TicketKind.STUCK, entry_id="eds-obtain", step=2)
    assert second.id > first.id and [t.id for t in await any_store.tickets.queue()] == [first.id, second.id]
    assert (await any_store.tickets.get(second.id)).step == 2

    assert [t.id for t in await any_store.outbox.cards_to_post()] == [first.id, second.id]
    await any_store.outbox.card_posted(first.id, 700)
    assert (await any_store.tickets.for_group_message(700)).id == first.id

    taken = await any_store.tickets.take(first.id, 11, "Гульнар")
    assert taken.taken and taken.ticket.taken_by == "Гульнар"
    again = await any_store.tickets.take(first.id, 12, "Ержан")
    assert not again.taken and again.ticket.taken_by == "Гульнар"

    answer = await any_store.tickets.add_message(first.id, Direction.LIBRARIAN, "Ответ", author="Гульнар", group_message_id=701)
    assert [m.id for m in await any_store.outbox.pending_messages()] == [answer.id]
    await any_store.outbox.retry_later(answer.id, 60)
    assert await any_store.outbox.pending_messages() == []
    assert [m.id for m in await any_store.outbox.pending_messages(utcnow() + dt.timedelta(seconds=61))] == [answer.id]
    await any_store.outbox.mark_delivered(answer.id)
    assert (await any_store.tickets.for_group_message(701)).id == first.id
    assert (await any_store.tickets.get(first.id)).first_reply_at is not None

    closed = await any_store.tickets.close(first.id, "Гульнар")
    assert closed.status == "closed" and closed.closed_by == "Гульнар"
    assert await any_store.tickets.close(first.id, "Гульнар") is None
    assert await any_store.tickets.rate(first.id, citizen.id, 5)
    assert [t.id for t in await any_store.outbox.notices_to_send()] == [first.id]

    draft = await any_store.insights.add_draft(first.id, "Гульнар")
    assert draft.answer == "Ответ" and len(await any_store.insights.drafts()) == 1


async def test_take_is_atomic_under_concurrency(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "502")
    tickets = [await any_store.tickets.open(citizen.id, f"вопрос {n}", "ru") for n in range(5)]
    results = await asyncio.gather(*(
        any_store.tickets.take(ticket.id, librarian, f"lib{librarian}") for ticket in tickets for librarian in range(8)
    ))
    winners = {}
    for result in results:
        if result.taken:
            assert result.ticket.id not in winners, "two librarians took one ticket"
            winners[result.ticket.id] = result.ticket.taken_by
    assert sorted(winners) == [t.id for t in tickets]
    for ticket in await any_store.tickets.queue():
        assert ticket.taken_by == winners[ticket.id]
