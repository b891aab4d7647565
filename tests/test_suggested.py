"""bot.suggested: which entries a ticket's card suggests (the floor, the window, what is left out), and an
answer with an entry for a console citizen (the console shows the entry's stored text)."""

from __future__ import annotations

import dataclasses

from bot import suggested
from bot.console import render_inbox
from bot.helpdesk import HelpDesk, Knowledge
from bot.storage import Storage


async def _ticket(desk: HelpDesk, store: Storage, question: str, lang: str = "ru", **kind):
    citizen = await store.citizens.get("console", f"c{len(await store.tickets.queue())}")
    return citizen, (await desk.escalate(citizen, question, lang, **kind)).ticket


async def test_suggestions_keep_the_floor_and_the_window(knowledge: Knowledge, store: Storage) -> None:
    desk = HelpDesk(knowledge, store)
    _, ticket = await _ticket(desk, store, "на работу требуют бумагу что меня не судили, где ее взять")
    candidates = knowledge.matcher.match(ticket.question).candidates
    offered = desk.suggestions(ticket)
    assert [e.id for e in offered] == ["criminal-record", "alimony-paternity"]
    best = candidates[0].score
    assert all(c.score >= max(suggested.FLOOR, best - suggested.WINDOW) for c in candidates if c.id in {e.id for e in offered})
    assert any(c.score < suggested.FLOOR for c in candidates[:3])  # the third candidate is under the floor

    _, nothing = await _ticket(desk, store, "как долететь до мадрида")
    assert desk.suggestions(nothing) == ()
    closed = dataclasses.replace(ticket, status="closed")
    assert desk.suggestions(closed) == ()  # a closed card offers nothing


async def test_the_entry_a_not_helpful_ticket_names_is_not_suggested(knowledge: Knowledge, store: Storage) -> None:
    desk = HelpDesk(knowledge, store)
    _, ticket = await _ticket(desk, store, "на работу требуют бумагу что меня не судили, где ее взять", kind="not-helpful",
                              entry_id="criminal-record")
    assert [e.id for e in desk.suggestions(ticket)] == ["alimony-paternity"]


async def test_a_console_citizen_sees_the_entry_as_a_librarians_answer(knowledge: Knowledge, store: Storage) -> None:
    desk = HelpDesk(knowledge, store)
    citizen, ticket = await _ticket(desk, store, "заңдар қай сайтта жарияланады", "kk")

    result = await desk.answer_with(ticket.id, "legislation", "Гульнар", 7)

    assert result.refused is None and result.ticket.status == "taken"
    (item,) = await desk.inbox(citizen)
    entry = knowledge.kb.entry("legislation")
    assert item.text == suggested.plain_text(entry, "kk")
    shown = render_inbox(item, "kk")
    assert entry.title["kk"] in shown and entry.links[0].url_for("kk") in shown
    assert await desk.inbox(citizen) == []  # handed over once
