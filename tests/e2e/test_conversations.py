"""Whole conversations through the real `egov-bot run` process and the Bot API emulator, on SQLite and on
PostgreSQL: an open ticket never swallows an answer, what is not a question gets its own reply, flood control
declines explicitly, delivery survives a forgotten citizen, and media with captions."""

from __future__ import annotations

import asyncio

from bot import locales

from .emulator import BotApiEmulator
from .test_bot_process import buttons, world  # noqa: F401 - the fixture: the bot on SQLite and on PostgreSQL


def ru(key: str, **values: object) -> str:
    return locales.text("ru", key, **values)


def group(key: str, **values: object) -> str:
    return locales.text(locales.GROUP, key, **values)


async def test_a_ticket_then_a_question_thanks_and_a_talk_with_the_librarian(world) -> None:
    emulator, bot, citizen, chat = world
    asked = emulator.send_text(citizen, None, "где купить билет на концерт в темиртау")
    await emulator.wait_for("#1", chat=citizen, after=asked)
    card = await emulator.wait_for("где купить билет", chat=chat)

    # 1. Another question while #1 is open: answered at once, with a line about #1.
    asked = emulator.send_text(citizen, None, "как получить эцп")
    answer = await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked)
    assert "/cancel 1" in answer["text"] and "f:y:eds-obtain" in buttons(answer)

    # 2. Thanks, greeting with intent, a bare digit: their own replies, no ticket.
    for text, reply in (("спасибо вам", ru("thanks_reply")), ("Здравствуйте, у меня вопрос", ru("greeting_reply")),
                        ("3", ru("digits_hint")), ("👍", ru("thanks_reply"))):
        asked = emulator.send_text(citizen, None, text)
        got = await emulator.wait_for(lambda m: m.get("text") == reply, chat=citizen, after=asked)
        assert got
    await asyncio.sleep(0.5)
    assert bot.rows("SELECT count(*) FROM tickets") == [(1,)]
    assert bot.rows("SELECT count(*) FROM ticket_messages WHERE direction = 'citizen'") == [(0,)]

    # The librarian asks something: what the citizen writes next goes to the ticket, even if answerable.
    librarian = emulator.user(7101, "Гульнар")
    emulator.send_text(chat, librarian, "Какой у вас город?", reply_to=card["message_id"])
    await emulator.wait_for("Какой у вас город?", chat=citizen)
    asked = emulator.send_text(citizen, None, "как получить эцп")
    await emulator.wait_for(ru("follow_up", number=1), chat=citizen, after=asked)
    await emulator.wait_for(lambda m: "как получить эцп" in (m.get("text") or ""), chat=chat)

    # /forget while the ticket is open: the card says so at once; the librarian's reply is refused.
    emulator.send_command(citizen, None, "forget")
    confirm = await emulator.wait_for(lambda m: "g:yes" in buttons(m), chat=citizen)
    emulator.press_button(citizen, None, confirm["message_id"], "g:yes")
    await emulator.wait_for(ru("forget_done"), chat=citizen)
    await emulator.wait_for(lambda m: m["message_id"] == card["message_id"] and group("card_forgotten") in m["text"],
                            chat=chat)
    emulator.send_text(chat, librarian, "Тогда смотрите афишу", reply_to=card["message_id"])
    await emulator.wait_for(group("reply_refused_forgotten", number=1), chat=chat)

    # A new question after all that is answered as usual.
    asked = emulator.send_text(citizen, None, "как продлить эцп")
    await emulator.wait_for(lambda m: any(b.startswith("f:y:") for b in buttons(m)), chat=citizen, after=asked)
    assert not [m for m in emulator.sent(citizen) if "Тогда смотрите афишу" in (m.get("text") or "")]
    assert "Traceback" not in bot.log.read_text()


async def test_fifteen_questions_in_a_minute_are_answered_or_declined_and_buttons_do_not_count(world) -> None:
    emulator, bot, citizen, chat = world
    asked = emulator.send_text(citizen, None, "как получить эцп")
    answer = await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked)
    # A walkthrough tapped through (9 steps forward, 3 back): every step shows, and the presses do not count.
    emulator.press_button(citizen, None, answer["message_id"], "s:eds-obtain:1")
    step = await emulator.wait_for(lambda m: "x:eds-obtain:1" in buttons(m), chat=citizen)
    for number in (2, 3, 4, 5, 6, 7, 8, 9, 8, 7, 6):
        emulator.press_button(citizen, None, step["message_id"], f"s:eds-obtain:{number}")
        step = await emulator.wait_for(lambda m, n=number: f"x:eds-obtain:{n}" in buttons(m), chat=citizen)
    assert len(emulator.answered_callbacks) == 12
    sent = [emulator.send_text(citizen, None, f"как получить эцп, вопрос {n}") for n in range(14)]
    for n, message in enumerate(sent):
        def quoting(m: dict, message_id=message["message_id"]) -> bool:
            return (m.get("reply_to_message") or {}).get("message_id") == message_id
        reply = await emulator.wait_for(quoting, chat=citizen, timeout=20)
        if n < 9:  # with the first question: 10 a minute
            assert "pki.gov.kz" in reply["text"], (n, reply["text"])
        else:
            assert reply["text"] == (ru("slow_down", limit=10) if n == 9 else ru("slow_down_again")), (n, reply["text"])


async def test_media_captions_and_a_photo_reply(world) -> None:
    emulator, bot, citizen, chat = world
    # A photo whose caption is a question, with no ticket: the caption is answered.
    asked = emulator.send_photo(citizen, None, caption="как получить эцп")
    await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked)
    asked = emulator.send_text(citizen, None, "где купить билет на концерт в темиртау")
    await emulator.wait_for("#1", chat=citizen, after=asked)
    card = await emulator.wait_for("где купить билет", chat=chat)
    emulator.send_photo(citizen, None, caption="вот афиша")
    copy = await emulator.wait_for("прислал(а) фото", chat=chat)
    assert "photo" not in copy["caption"]
    # The librarian answers with a photo: the citizen gets it once, the answer in its caption.
    librarian = emulator.user(7101, "Гульнар")
    emulator._inject(chat, librarian, {"photo": [emulator._file("photo", width=90, height=68)],
                                       "caption": "Касса здесь"}, card["message_id"])
    got = await emulator.wait_for("Касса здесь", chat=citizen)
    assert got["caption"] == ru("librarian_answer", number=1, text="Касса здесь")
    await asyncio.sleep(1)
    assert len([m for m in emulator.sent(citizen) if "Касса здесь" in (m.get("text") or m.get("caption") or "")]) == 1
