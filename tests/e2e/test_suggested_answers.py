"""A suggested answer end to end: the real `egov-bot run` process and the Bot API emulator, on SQLite and on
PostgreSQL. A Kazakh citizen's question becomes a card with the entries that fit; a librarian presses one; the
first delivery fails and the bot is killed before it retries; after the restart the citizen gets the entry in
Kazakh, once, and the card says who answered with what."""

from __future__ import annotations

import asyncio
from html import escape

from bot import locales
from bot.knowledge import bundled_knowledge_dir, load_knowledge

from .test_bot_process import buttons, world  # noqa: F401 - the fixture: the bot on SQLite and on PostgreSQL

KK_QUESTION = "заңдар қай сайтта жарияланады"


async def test_a_suggestion_pressed_on_the_card_reaches_the_citizen_in_kazakh(world) -> None:
    emulator, bot, _, group = world
    citizen = emulator.private_chat(5002, "Әсел", "kk")
    entry = load_knowledge(bundled_knowledge_dir()).entry("legislation")

    asked = emulator.send_text(citizen, None, KK_QUESTION)
    await emulator.wait_for("#1", chat=citizen, after=asked)
    card = await emulator.wait_for(KK_QUESTION, chat=group)
    assert buttons(card)[:3] == ["t:1", "z:1", "ae:1:legislation"]

    emulator.fail_next("sendMessage", 500)  # the first delivery to the citizen fails ...
    librarian = emulator.user(7101, "Гульнар")
    emulator.press_button(group, librarian, card["message_id"], "ae:1:legislation")
    chose = locales.text("kk", "librarian_chose_entry", number=1)
    await emulator.wait_for_call("sendMessage", lambda p: str(p.get("text", "")).startswith(chose))
    await bot.rows_become("SELECT entry_id, attempts FROM ticket_messages", [("legislation", 1)])  # to retry
    bot.kill()  # ... and the bot is killed before it retries
    assert bot.rows("SELECT delivered FROM ticket_messages") in ([(0,)], [(False,)])
    await bot.start()

    got = await emulator.wait_for(chose, chat=citizen, timeout=20)
    assert got["text"].startswith(chose + "\n\n<b>" + escape(entry.title["kk"]) + "</b>")  # HTML, as the bot sends it
    assert escape(entry.answer["kk"].split("\n")[0]) in got["text"]
    assert buttons(got)[:2] == ["f:y:legislation", "f:n:legislation"]
    card_says = locales.text(locales.GROUP, "card_answered_with", entry=entry.title["ru"], librarian="Гульнар", when="")
    await emulator.wait_for(lambda m: m["message_id"] == card["message_id"] and card_says.rstrip(", ") in m["text"],
                            chat=group, timeout=20)
    await asyncio.sleep(1)
    assert len([m for m in emulator.sent(citizen) if (m.get("text") or "").startswith(chose)]) == 1
    assert bot.rows("SELECT ticket_id, entry_id, lang, question FROM suggested_variants") == [
        (1, "legislation", "kk", KK_QUESTION)]
    assert bot.rows("SELECT status, taken_by FROM tickets") == [("taken", "Гульнар")]
