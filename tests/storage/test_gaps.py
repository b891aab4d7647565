"""bot.storage.gaps: what `kb gaps` reads, on SQLite and PostgreSQL: an escalated question in the log and the
ticket it opened are one message; tickets of each kind; answers with an entry; the librarians' typed answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.domain import Action, Channel, Direction, TicketKind, utcnow
from bot.storage import Storage
from bot.storage.schema import TicketRow


async def test_signals_count_a_logged_question_and_its_ticket_once(any_store: Storage) -> None:
    a = await any_store.citizens.get(Channel.TELEGRAM, "1")
    b = await any_store.citizens.get(Channel.TELEGRAM, "2")
    await any_store.insights.log_question(a.id, "билет на поезд", "ru", Action.ESCALATE, None, 0.1)
    await any_store.insights.log_question(a.id, "билет на поезд", "ru", Action.ESCALATE, None, 0.1)  # a follow-up
    await any_store.insights.log_question(b.id, "справка", "ru", Action.ANSWER, "x", 0.9)  # answered: not a gap
    unmatched = await any_store.tickets.open(a.id, "билет на поезд", "ru")
    declined = await any_store.tickets.open(b.id, "пособие на собаку", "ru", kind=TicketKind.DECLINED,
                                            candidates=[{"id": "disability", "score": 0.47}])
    unhelpful = await any_store.tickets.open(b.id, "справка о несудимости", "ru", kind=TicketKind.NOT_HELPFUL,
                                             entry_id="criminal-record")
    old = await any_store.tickets.open(b.id, "бумага что не судим", "ru")
    async with any_store.database.sessions.begin() as session:  # opened before the period, answered in it
        await session.execute(update(TicketRow).where(TicketRow.id == old.id)
                              .values(created_at=utcnow() - dt.timedelta(days=40)))
    await any_store.suggested.answer(old.id, "criminal-record", old.question, "ru", "…", "Мария")

    signals = await any_store.gaps.signals(utcnow() - dt.timedelta(days=30))

    seen = [(s.source, s.citizen, s.question, s.ticket_id, s.entry_id, s.offered, s.answered_with) for s in signals]
    assert seen == [
        ("escalated", str(a.id), "билет на поезд", unmatched.id, None, (), []),
        ("escalated", str(a.id), "билет на поезд", None, None, (), []),
        ("declined", str(b.id), "пособие на собаку", declined.id, None, ("disability",), []),
        ("not-helpful", str(b.id), "справка о несудимости", unhelpful.id, "criminal-record", (), []),
        ("escalated", str(b.id), "бумага что не судим", old.id, None, (), ["criminal-record"]),
    ]
    assert await any_store.gaps.signals(utcnow() + dt.timedelta(days=1)) == []


async def test_a_tickets_answer_is_its_draft_else_the_reply_to_its_card(any_store: Storage) -> None:
    citizen = await any_store.citizens.get(Channel.TELEGRAM, "1")
    first = await any_store.tickets.open(citizen.id, "вопрос один", "ru")
    second = await any_store.tickets.open(citizen.id, "вопрос два", "kk")
    silent = await any_store.tickets.open(citizen.id, "вопрос три", "ru")
    await any_store.tickets.add_message(first.id, Direction.LIBRARIAN, "ответ из черновика", author="Мария")
    await any_store.insights.add_draft(first.id, "Мария")
    await any_store.tickets.add_message(first.id, Direction.LIBRARIAN, "позже", author="Мария")
    async with any_store.database.sessions.begin() as session:
        await session.execute(update(TicketRow).where(TicketRow.id == second.id).values(card_message_id=77))
    await any_store.tickets.add_message(second.id, Direction.LIBRARIAN, "уточнение", author="Ержан", in_reply_to=12)
    await any_store.tickets.add_message(second.id, Direction.LIBRARIAN, "жауап", author="Ержан", in_reply_to=77)
    await any_store.suggested.answer(silent.id, "iin", silent.question, "ru", "ИИН ...", "Мария")  # an entry: not typed

    answers = await any_store.gaps.answers([second.id, first.id, silent.id, first.id, 999])

    assert [(a.ticket_id, a.lang, a.text, a.author, a.saved_as_draft) for a in answers] == [
        (first.id, "ru", "ответ из черновика", "Мария", True),
        (second.id, "kk", "жауап", "Ержан", False),
    ]


async def test_an_ignored_key_is_kept_once(any_store: Storage) -> None:
    assert await any_store.gaps.ignored() == {}
    assert await any_store.gaps.ignore("0123456789", "билет поезд", "билет на поезд") is True
    assert await any_store.gaps.ignore("0123456789", "другое", "другое") is False
    assert await any_store.gaps.ignored() == {"0123456789": "билет поезд"}
