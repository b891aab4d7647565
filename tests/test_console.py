"""bot.console: the terminal chat over HelpDesk, driven in-process through piped (non-tty) text."""

from __future__ import annotations

import io

import pytest

from bot import locales
from bot.console import Console, render_entry
from bot.helpdesk import HelpDesk, Library
from bot.knowledge import KnowledgeBase
from bot.tickets import TicketStore


async def chat(library: Library, store: TicketStore, *lines: str) -> str:
    stdout = io.StringIO()
    console = Console(HelpDesk(library, store), stdin=io.StringIO("".join(f"{line}\n" for line in lines)),
                      stdout=stdout, user=lambda: "tester")
    await console.run()
    return stdout.getvalue()


def replies(output: str) -> list[str]:
    """The bot's messages, in order (each starts with the bot prefix)."""
    prefixes = {locales.text(lang, "bot_prefix") for lang in locales.UI_LANGUAGES}
    messages = []
    for block in output.split("\n\n"):
        for prefix in prefixes:
            if prefix in block:
                messages.append(block[block.index(prefix) + len(prefix):])
    return messages


async def test_answer_shows_the_entry_with_links(library: Library, store: TicketStore, kb: KnowledgeBase):
    output = await chat(library, store, "как получить эцп")
    entry = kb.entry("eds-obtain")
    assert render_entry(entry, "ru") in output
    assert "https://pki.gov.kz" in output
    assert output.rstrip().endswith(locales.text("ru", "goodbye"))


async def test_clarify_then_choose_by_number(library: Library, store: TicketStore, kb: KnowledgeBase):
    options = library.matcher.match("справка").candidates
    output = await chat(library, store, "справка", "2")
    assert locales.text("ru", "clarify_prompt") in output
    assert render_entry(kb.entry(options[1].id), "ru") in output
    assert await store.open_tickets() == []


async def test_clarify_then_zero_escalates(library: Library, store: TicketStore):
    output = await chat(library, store, "справка", "0")
    assert "#1" in output
    [ticket] = await store.open_tickets()
    assert (ticket.question, ticket.kind, ticket.lang) == ("справка", "declined", "ru")
    offered = [c.id for c in library.matcher.match("справка").candidates]
    assert [c["id"] for c in ticket.candidates] == offered


async def test_clarify_with_a_number_out_of_range(library: Library, store: TicketStore):
    output = await chat(library, store, "справка", "9", "1")
    assert locales.text("ru", "clarify_bad_number") in output
    assert await store.open_tickets() == []
    # The choice is still open after a wrong number: "1" then shows the first option.
    option = library.kb.entry(library.matcher.match("справка").candidates[0].id)
    assert render_entry(option, "ru") in output


async def test_a_number_without_a_choice_is_a_question(library: Library, store: TicketStore):
    await chat(library, store, "как получить эцп", "1")
    assert await store.count_questions() == 2


async def test_new_question_drops_the_pending_choice(library: Library, store: TicketStore):
    output = await chat(library, store, "справка", "как получить эцп", "0")
    # "0" after an answered question is not "none of these": nothing was declined.
    assert not [t for t in await store.open_tickets() if t.kind == "declined"]
    assert "https://pki.gov.kz" in output


async def test_kazakh_question_switches_the_interface_language(library: Library, store: TicketStore):
    output = await chat(library, store, "электрондық цифрлық қолтаңба алу")
    assert locales.text("kk", "bot_prefix") in output
    assert output.rstrip().endswith(locales.text("kk", "goodbye"))


@pytest.mark.parametrize("word", ["выход", "exit", "шығу"], ids=["vykhod", "exit", "shygu"])
async def test_quit_words_end_the_chat(library: Library, store: TicketStore, word: str):
    output = await chat(library, store, word, "как получить эцп")
    assert "https://pki.gov.kz" not in output
    assert await store.count_questions() == 0


async def test_small_talk_replies(library: Library, store: TicketStore):
    output = await chat(library, store, "здравствуйте", "спасибо", "")
    messages = replies(output)
    assert locales.text("ru", "greeting_reply") in messages
    assert locales.text("ru", "thanks_reply") in messages
    assert locales.text("ru", "no_words") in messages
    assert await store.open_tickets() == []


def test_locales_have_the_same_keys():
    assert locales.keys("ru") == locales.keys("kk") == locales.keys("en")


def test_escalated_text_has_the_ticket_number():
    for lang in locales.UI_LANGUAGES:
        assert "#17" in locales.text(lang, "escalated", number=17)
