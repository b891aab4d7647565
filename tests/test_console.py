"""bot.console: the terminal chat over HelpDesk, driven in-process through piped (non-tty) text."""

from __future__ import annotations

import io

import pytest

from bot import locales
from bot.console import Console, render, render_entry
from bot.helpdesk import HelpDesk, Knowledge
from bot.knowledge import KnowledgeBase
from bot.storage import Storage


async def chat(knowledge: Knowledge, store: Storage, *lines: str) -> str:
    stdout = io.StringIO()
    console = Console(HelpDesk(knowledge, store), stdin=io.StringIO("".join(f"{line}\n" for line in lines)),
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


async def test_answer_shows_the_entry_with_links(knowledge: Knowledge, store: Storage, kb: KnowledgeBase):
    output = await chat(knowledge, store, "как получить эцп")
    entry = kb.entry("eds-obtain")
    assert render_entry(entry, "ru") in output
    assert "https://pki.gov.kz" in output
    assert output.rstrip().endswith(locales.text("ru", "goodbye"))


async def test_clarify_then_choose_by_number(knowledge: Knowledge, store: Storage, kb: KnowledgeBase):
    options = knowledge.matcher.match("справка").candidates
    output = await chat(knowledge, store, "справка", "2")
    assert locales.text("ru", "clarify_prompt") in output
    assert render_entry(kb.entry(options[1].id), "ru") in output
    assert await store.tickets.queue() == []


async def test_clarify_then_zero_escalates(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "справка", "0")
    assert "#1" in output
    [ticket] = await store.tickets.queue()
    assert (ticket.question, ticket.kind, ticket.lang) == ("справка", "declined", "ru")
    offered = [c.id for c in knowledge.matcher.match("справка").candidates]
    assert [c["id"] for c in ticket.candidates] == offered


async def test_clarify_with_a_number_out_of_range(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "справка", "9", "1")
    assert locales.text("ru", "clarify_bad_number") in output
    assert await store.tickets.queue() == []
    # The choice is still open after a wrong number: "1" then shows the first option.
    option = knowledge.kb.entry(knowledge.matcher.match("справка").candidates[0].id)
    assert render_entry(option, "ru") in output


async def test_a_number_without_a_choice_gets_a_hint(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "как получить эцп", "1")
    assert await store.insights.count_questions() == 1
    assert locales.text("ru", "digits_hint") in output
    assert await store.tickets.queue() == []


async def test_new_question_drops_the_pending_choice(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "справка", "как получить эцп", "0")
    # "0" after an answered question is not "none of these": nothing was declined.
    assert not [t for t in await store.tickets.queue() if t.kind == "declined"]
    assert "https://pki.gov.kz" in output


async def test_kazakh_question_switches_the_interface_language(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "электрондық цифрлық қолтаңба алу")
    assert locales.text("kk", "bot_prefix") in output
    assert output.rstrip().endswith(locales.text("kk", "goodbye"))


@pytest.mark.parametrize("word", ["выход", "exit", "шығу"], ids=["vykhod", "exit", "shygu"])
async def test_quit_words_end_the_chat(knowledge: Knowledge, store: Storage, word: str):
    output = await chat(knowledge, store, word, "как получить эцп")
    assert "https://pki.gov.kz" not in output
    assert await store.insights.count_questions() == 0


async def test_a_kazakh_thank_you_does_not_switch_a_russian_conversation(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "как получить эцп", "рахмет", "/status")
    messages = replies(output)
    assert locales.text("kk", "thanks_reply") in messages  # answered in its own language ...
    assert messages[-2] == locales.text("ru", "status_none")  # ... and the conversation stays Russian
    assert output.count(locales.text("ru", "prompt")) >= 3


async def test_small_talk_replies(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "здравствуйте", "спасибо", "")
    messages = replies(output)
    assert locales.text("ru", "greeting_reply") in messages
    assert locales.text("ru", "thanks_reply") in messages
    assert locales.text("ru", "no_words") in messages
    assert await store.tickets.queue() == []


def test_locales_have_the_same_keys():
    assert locales.keys("ru") == locales.keys("kk") == locales.keys("en")


def test_escalated_text_has_the_ticket_number():
    for lang in locales.UI_LANGUAGES:
        assert "#17" in locales.text(lang, "escalated", number=17)


# --- the same conversation as in Telegram ---------------------------------------------------------------


def test_every_reply_type_has_a_console_rendering(kb: KnowledgeBase) -> None:
    """One exhaustive match renders every HelpDesk reply (a new type without a case fails here)."""
    import datetime as dt
    import typing

    from bot import helpdesk as hd
    from bot.matching import Decision
    from bot.domain import Ticket

    entry = kb.entry("eds-obtain")
    decision = Decision("answer", "ru", (), "eds-obtain")
    ticket = Ticket(7, 1, "open", "unmatched", "ru", "q", None, None, [], dt.datetime(2026, 12, 1), None)
    samples = {
        hd.Answer: hd.Answer(entry, "ru", decision, "q", pending=7),
        hd.Clarify: hd.Clarify((entry, kb.entry("eds-renew")), "ru", decision, "q"),
        hd.Escalated: hd.Escalated(ticket, "ru"),
        hd.FollowUp: hd.FollowUp(ticket, "ru"),
        hd.SmallTalk: hd.SmallTalk("thanks", "ru"),
        hd.Rated: hd.Rated(7, 5, "ru"),
    }
    assert set(typing.get_args(hd.Reply)) == set(samples)
    for kind, reply in samples.items():
        for lang in locales.UI_LANGUAGES:
            text = render(reply, lang)
            assert text.strip() and "{" not in text, (kind, lang, text)
    assert locales.text("ru", "pending_ticket", number=7) in render(samples[hd.Answer])


async def test_a_question_after_an_escalation_does_not_crash(knowledge: Knowledge, store: Storage):
    """The second message after an escalation (a follow-up) used to crash the console."""
    output = await chat(knowledge, store, "Где в городе купить билет в кино?", "а ещё где купить попкорн", "как получить эцп",
                        "спасибо")
    messages = replies(output)
    assert "Traceback" not in output
    assert locales.text("ru", "follow_up", number=1) in messages
    assert any(m.startswith(knowledge.kb.entry("eds-obtain").title["ru"]) for m in messages)
    assert locales.text("ru", "pending_ticket", number=1) in output  # answered, and ticket #1 still pending
    assert locales.text("ru", "thanks_reply") in messages
    assert len(await store.tickets.queue()) == 1


async def test_a_database_with_an_open_console_ticket(knowledge: Knowledge, store: Storage):
    await chat(knowledge, store, "Где в городе купить билет в кино?")
    output = await chat(knowledge, store, "и где купить попкорн", "спасибо")  # a new session, ticket still open
    assert "Traceback" not in output
    assert locales.text("ru", "follow_up", number=1) in replies(output)


async def test_zero_after_a_choice_opens_a_declined_ticket_as_in_telegram(knowledge: Knowledge, store: Storage):
    await chat(knowledge, store, "справка", "0")
    [ticket] = await store.tickets.queue()
    assert ticket.kind == "declined" and ticket.question == "справка"
    assert [c["id"] for c in ticket.candidates] == [c.id for c in knowledge.matcher.match("справка").candidates]


async def test_console_commands(knowledge: Knowledge, store: Storage):
    output = await chat(knowledge, store, "/start", "/help", "/status", "Где в городе купить билет в кино?", "/status",
                        "/cancel 1", "/status", "/lang kk", "/lang xx")
    messages = replies(output)
    assert locales.text("ru", "status_none") in messages
    assert any(m.startswith(locales.text("ru", "status_list")) and "#1" in m for m in messages)
    assert locales.text("ru", "cancel_done", number="1") in messages
    assert messages.count(locales.text("ru", "status_none")) == 2
    assert locales.text("kk", "lang_set") in messages and locales.text("kk", "lang_usage") in messages
    assert (await store.citizens.get("console", "tester")).language == "kk"
    assert (await store.tickets.get(1)).status == "withdrawn"


async def test_librarian_answer_and_closing_are_shown_in_the_console(knowledge: Knowledge, store: Storage):
    await chat(knowledge, store, "Где в городе купить билет в кино?")
    await store.tickets.add_message(1, "librarian", "Кинотеатр у вокзала", author="Мария")
    await store.tickets.close(1, "Мария")
    output = await chat(knowledge, store, "5")
    messages = replies(output)
    assert locales.text("ru", "librarian_answer", number=1, text="Кинотеатр у вокзала") in messages
    assert locales.text("ru", "ticket_closed", number=1) in messages
    assert locales.text("ru", "rating_recorded", rating=5) in messages
    assert (await store.tickets.get(1)).rating == 5
    assert (await store.tickets.messages(1))[-1].delivered
    assert locales.text("ru", "librarian_answer", number=1, text="Кинотеатр у вокзала") not in await chat(
        knowledge, store, "спасибо")  # shown once


async def test_forget_in_the_console_asks_first(knowledge: Knowledge, store: Storage):
    await chat(knowledge, store, "Где в городе купить билет в кино?", "/forget", "нет")
    assert await store.insights.count_questions() == 1
    await chat(knowledge, store, "/forget", "да")
    assert await store.insights.count_questions() == 0
