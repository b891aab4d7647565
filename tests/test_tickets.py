"""bot.tickets: citizens, the librarian queue and the question log on SQLite (aiosqlite) under tmp_path."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.tickets import TicketStore, default_database_url


def sql(db_path: Path, statement: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as connection, connection:
        return connection.execute(statement, params).fetchall()


async def test_citizen_is_created_once(store: TicketStore):
    first = await store.citizen("console", "aigul", language="kk", first_name="Айгүл")
    again = await store.citizen("console", "aigul")
    assert again == first
    assert (first.channel, first.external_id, first.language, first.first_name) == ("console", "aigul", "kk", "Айгүл")
    other_channel = await store.citizen("telegram", "aigul")
    assert other_channel.id != first.id


async def test_open_ticket_round_trip(store: TicketStore):
    citizen = await store.citizen("telegram", "42")
    candidates = [{"id": "eds-obtain", "score": 0.55}, {"id": "eds-renew", "score": 0.5}]
    ticket = await store.open_ticket(citizen.id, "эцқ қалай алам", "kk", candidates=candidates)
    assert ticket.id == 1
    assert (ticket.citizen_id, ticket.status, ticket.kind, ticket.lang) == (citizen.id, "open", "unmatched", "kk")
    assert ticket.question == "эцқ қалай алам"
    assert ticket.candidates == candidates
    assert ticket.entry_id is None and ticket.step is None and ticket.taken_by is None
    assert isinstance(ticket.created_at, dt.datetime)
    assert await store.ticket(ticket.id) == ticket


async def test_open_ticket_with_kind_entry_and_step(store: TicketStore):
    citizen = await store.citizen("console", "u")
    ticket = await store.open_ticket(citizen.id, "не получается", "ru", kind="stuck", entry_id="eds-obtain", step=3)
    stored = await store.ticket(ticket.id)
    assert (stored.kind, stored.entry_id, stored.step, stored.candidates) == ("stuck", "eds-obtain", 3, [])


async def test_ticket_keeps_the_citizens_question_and_waits_for_its_card(store: TicketStore, db_path: Path):
    citizen = await store.citizen("console", "u")
    ticket = await store.open_ticket(citizen.id, "где взять справку", "ru")
    rows = sql(db_path, "SELECT id, question, status, card_message_id FROM tickets")
    assert rows == [(ticket.id, "где взять справку", "open", None)]
    assert [t.id for t in await store.cards_to_post()] == [ticket.id]
    await store.set_card(ticket.id, 501)
    assert await store.cards_to_post() == []
    assert (await store.ticket_for_group_message(501)).id == ticket.id


async def test_candidates_are_stored_as_readable_json(store: TicketStore, db_path: Path):
    citizen = await store.citizen("console", "u")
    await store.open_ticket(citizen.id, "вопрос", "ru", candidates=[{"id": "iin", "score": 0.4}])
    [(stored,)] = sql(db_path, "SELECT candidates FROM tickets")
    assert stored == '[{"id": "iin", "score": 0.4}]'


async def test_unknown_ticket_is_none(store: TicketStore):
    assert await store.ticket(999) is None


async def test_open_tickets_oldest_first(store: TicketStore, db_path: Path):
    citizen = await store.citizen("console", "u")
    first = await store.open_ticket(citizen.id, "первый", "ru")
    second = await store.open_ticket(citizen.id, "второй", "ru")
    third = await store.open_ticket(citizen.id, "третий", "ru")
    # The third was asked earliest (say, it was imported from another channel): it comes first.
    sql(db_path, "UPDATE tickets SET created_at = ? WHERE id = ?", "2020-01-01 00:00:00.000000", third.id)
    assert [t.id for t in await store.open_tickets()] == [third.id, first.id, second.id]


async def test_open_tickets_with_equal_times_keep_their_order(store: TicketStore, db_path: Path):
    citizen = await store.citizen("console", "u")
    ids = [(await store.open_ticket(citizen.id, f"вопрос {n}", "ru")).id for n in range(3)]
    sql(db_path, "UPDATE tickets SET created_at = ?", "2024-05-05 10:00:00.000000")
    assert [t.id for t in await store.open_tickets()] == ids


async def test_open_tickets_skips_closed_ones(store: TicketStore, db_path: Path):
    citizen = await store.citizen("console", "u")
    tickets = [await store.open_ticket(citizen.id, f"вопрос {n}", "ru") for n in range(4)]
    sql(db_path, "UPDATE tickets SET status = 'closed' WHERE id = ?", tickets[0].id)
    sql(db_path, "UPDATE tickets SET status = 'withdrawn' WHERE id = ?", tickets[1].id)
    sql(db_path, "UPDATE tickets SET status = 'taken', taken_by = 'librarian' WHERE id = ?", tickets[2].id)
    waiting = await store.open_tickets()
    assert [t.id for t in waiting] == [tickets[2].id, tickets[3].id]
    assert waiting[0].status == "taken" and waiting[0].taken_by == "librarian"


async def test_no_open_tickets(store: TicketStore):
    assert await store.open_tickets() == []


async def test_question_log(store: TicketStore, db_path: Path):
    assert await store.count_questions() == 0
    citizen = await store.citizen("console", "u")
    await store.log_question(citizen.id, "как получить эцп", "ru", "answer", "eds-obtain", 1.0)
    await store.log_question(None, "справка", "ru", "clarify", None, 0.7)
    assert await store.count_questions() == 2
    rows = sql(db_path, "SELECT citizen_id, question, lang, decision, entry_id, score FROM questions ORDER BY id")
    assert rows == [(citizen.id, "как получить эцп", "ru", "answer", "eds-obtain", 1.0),
                    (None, "справка", "ru", "clarify", None, 0.7)]


async def test_data_survives_a_new_store(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite3'}"
    store = TicketStore.from_url(url)
    try:
        await store.create_schema()
        citizen = await store.citizen("telegram", "7")
        ticket = await store.open_ticket(citizen.id, "вопрос", "ru")
    finally:
        await store.dispose()
    restarted = TicketStore.from_url(url)
    try:
        await restarted.create_schema()  # idempotent
        assert await restarted.ticket(ticket.id) == ticket
        assert (await restarted.citizen("telegram", "7")).id == citizen.id
    finally:
        await restarted.dispose()


def test_default_database_url():
    assert default_database_url() == "sqlite+aiosqlite:///./egov-bot.sqlite3"
    assert default_database_url("/var/lib/bot/") == "sqlite+aiosqlite:////var/lib/bot/egov-bot.sqlite3"
