"""Suggested answers on the card: the buttons, /answer (with a number, or as a reply to the card), what the
citizen receives, the refusals (closed ticket, removed entry, unknown ids, forged buttons), and what such an
answer does to the ticket (taken, open, the conversation window, the idle close)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot import locales
from bot.knowledge import bundled_knowledge_dir
from bot.telegram_ui import render

from .harness import AIGUL, ASEL, EDITOR, ERZHAN, GROUP_ID, MARIA, OTHER_GROUP_ID, TG, group, kk, replace_settings, ru


@pytest.fixture
def tg(tg_any: TG) -> TG:
    """These tests run on SQLite and on PostgreSQL."""
    return tg_any


CITIZEN = AIGUL["id"]
# Escalated (the bot is not sure enough), and yet the right entry leads the matcher's candidates.
QUESTION = "на работу требуют бумагу что меня не судили, где ее взять"
KK_QUESTION = "заңдар қай сайтта жарияланады"
OLD = "2020-01-01 09:00:00.000000"


def button_texts(call) -> list[str]:
    return [b["text"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row]


async def test_the_card_offers_the_entries_that_fit_and_one_press_answers_the_citizen(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card = tg.card(ticket.id)
    assert card.buttons == ["t:1", "z:1", "ae:1:criminal-record", "ae:1:alimony-paternity"]
    entry = tg.helpdesk.entry("criminal-record")
    assert button_texts(card)[2] == group("button_suggestion", title=render.clip(entry.title["ru"], 50))
    card_message = tg.last_message(GROUP_ID)
    tg.clear()

    pressed = await tg.press(MARIA, "ae:1:criminal-record", card_message)

    answer = tg.answer_to(pressed)
    assert answer["text"] == group("answer_ok", number=1, entry=entry.title["ru"]) and not answer.get("show_alert")
    (sent,) = tg.sent(CITIZEN)  # the entry as the bot answers with it, under one line naming the ticket
    assert sent.params["parse_mode"] == "HTML"
    assert sent.text == render.clip(ru("librarian_chose_entry", number=1) + "\n\n" + render.entry_text(entry, "ru"))
    assert all(link.url in sent.text for link in entry.links)
    assert sent.buttons == ["f:y:criminal-record", "f:n:criminal-record"]
    edit = tg.card_edits(1, card_message["message_id"])[-1]
    assert group("card_answered_with", entry=entry.title["ru"], librarian="Мария Иванова", when="").rstrip(", ") in edit.text
    assert "Взял(а): Мария Иванова" in edit.text
    assert edit.buttons == ["z:1", "u:1", "d:1", "ae:1:criminal-record", "ae:1:alimony-paternity"]  # open for follow-ups
    ticket = await tg.ticket(1)
    assert (ticket.status, ticket.taken_by) == ("taken", "Мария Иванова") and ticket.first_reply_at is not None
    (message,) = await tg.store.tickets.messages(1)
    assert (message.direction, message.entry_id, message.delivered, message.author) == (
        "librarian", "criminal-record", True, "Мария Иванова")
    assert tg.sql("SELECT ticket_id, entry_id, lang, question, created_by FROM suggested_variants") == [
        (1, "criminal-record", "ru", QUESTION, "Мария Иванова")]
    tg.clear()

    # Like a typed answer, it opens the conversation window: what the citizen writes next goes to the ticket.
    await tg.say(AIGUL, "как получить эцп")
    assert tg.texts(CITIZEN) == [ru("follow_up", number=1)]
    assert tg.last(GROUP_ID).text == "#1 · Айгуль: как получить эцп"


async def test_a_kazakh_ticket_gets_the_entry_in_kazakh_with_its_walkthrough(tg: TG) -> None:
    ticket = await tg.escalate(ASEL, KK_QUESTION)
    assert ticket.lang == "kk"
    assert tg.card(1).buttons == ["t:1", "z:1", "ae:1:legislation", "ae:1:egov-registration"]
    tg.clear()

    await tg.press(ERZHAN, "ae:1:egov-registration", tg.last_message(GROUP_ID))

    entry = tg.helpdesk.entry("egov-registration")
    (sent,) = tg.sent(ASEL["id"])
    assert sent.text.startswith(kk("librarian_chose_entry", number=1) + "\n\n<b>" + entry.title["kk"] + "</b>")
    assert entry.answer["kk"].strip()[:40] in sent.text
    assert sent.buttons == ["f:y:egov-registration", "f:n:egov-registration", "s:egov-registration:1"]
    assert button_texts(sent) == [kk("button_helpful"), kk("button_not_helpful"), kk("button_steps")]

    await tg.press(ASEL, "s:egov-registration:1", tg.last_message(ASEL["id"]))  # the walkthrough works from it
    assert entry.steps["kk"][0] in tg.last(ASEL["id"]).text


async def test_a_double_tap_or_a_second_librarian_sends_the_entry_once(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    tg.clear()

    await tg.press(MARIA, "ae:1:criminal-record", card)
    again = await tg.press(ERZHAN, "ae:1:criminal-record", card)

    title = tg.helpdesk.entry("criminal-record").title["ru"]
    assert tg.answer_to(again) == {**tg.answer_to(again), "show_alert": True,
                                   "text": group("answer_refused_repeated", number=1, entry=title)}
    assert len(tg.sent(CITIZEN)) == 1
    assert tg.sql("SELECT count(*) FROM suggested_variants") == [(1,)]
    # another entry on the same ticket is another answer
    await tg.press(ERZHAN, "ae:1:alimony-paternity", card)
    assert len(tg.sent(CITIZEN)) == 2


async def test_a_suggestion_pressed_after_the_ticket_was_closed_is_refused(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    old_card = dict(card)  # as a librarian's screen may still show it
    await tg.press(MARIA, "z:1", card)
    assert tg.card_edits(1, card["message_id"])[-1].buttons == []  # a closed card offers nothing
    tg.clear()

    pressed = await tg.press(ERZHAN, "ae:1:criminal-record", old_card)

    title = tg.helpdesk.entry("criminal-record").title["ru"]
    answer = tg.answer_to(pressed)
    assert (answer["text"], answer["show_alert"]) == (group("answer_refused_closed", number=1, entry=title), True)
    assert tg.sent(CITIZEN) == [] and tg.sql("SELECT count(*) FROM suggested_variants") == [(0,)]


def knowledge_without(tmp_path: Path, entry_id: str) -> Path:
    """A copy of the bundled knowledge base with one entry cut out of its file."""
    directory = tmp_path / "kb"
    shutil.copytree(bundled_knowledge_dir(), directory)
    for path in (directory / "services").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if f"- id: {entry_id}\n" in text:
            start = text.index(f"- id: {entry_id}\n")
            following = text.find("\n- id: ", start)
            path.write_text(text[:start] + (text[following + 1:] if following >= 0 else ""), encoding="utf-8")
            return directory
    raise AssertionError(f"no entry {entry_id}")


async def test_a_suggestion_removed_by_a_reload_is_refused_and_the_card_redrawn(make_tg, settings, tmp_path: Path) -> None:
    tg = await make_tg(replace_settings(settings, knowledge_dir=knowledge_without(tmp_path, "criminal-record")))
    await tg.escalate(AIGUL, QUESTION)  # the bot started on the full base ...
    card = tg.last_message(GROUP_ID)
    assert "ae:1:criminal-record" in tg.card(1).buttons
    await tg.cmd(EDITOR, "/reload")  # ... and the editor's reload removes the entry
    assert tg.helpdesk.entry("criminal-record") is None
    tg.clear()

    pressed = await tg.press(MARIA, "ae:1:criminal-record", card)

    answer = tg.answer_to(pressed)
    assert answer["text"] == group("answer_refused_entry", number=1, entry="criminal-record") and answer["show_alert"]
    assert tg.sent(CITIZEN) == []
    (edit,) = tg.card_edits(1, card["message_id"])
    assert "ae:1:criminal-record" not in edit.buttons and "t:1" in edit.buttons
    assert (await tg.ticket(1)).status == "open"


async def test_an_entry_removed_before_delivery_still_reaches_the_citizen_as_its_text(make_tg, settings,
                                                                                   tmp_path: Path) -> None:
    tg = await make_tg(replace_settings(settings, knowledge_dir=knowledge_without(tmp_path, "criminal-record")))
    await tg.escalate(AIGUL, QUESTION)
    entry = tg.helpdesk.entry("criminal-record")
    tg.clear()
    tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)  # Telegram fails the first delivery

    await tg.press(MARIA, "ae:1:criminal-record", tg.last_message(GROUP_ID))
    assert [c.status for c in tg.sent(CITIZEN)] == [500]
    await tg.cmd(EDITOR, "/reload")
    tg.sql("UPDATE ticket_messages SET next_attempt_at = ?", OLD)
    await tg.app.bot_data["courier"].run()

    # what was stored with the answer: the entry's text in the ticket's language, as a librarian's answer
    assert [c.status for c in tg.sent(CITIZEN)] == [500, 200]
    text = tg.last(CITIZEN).text
    assert text.startswith(ru("librarian_answer", number=1, text=entry.title["ru"]))
    assert entry.links[0].url in text


async def test_an_answer_with_an_entry_counts_for_the_idle_close(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.press(MARIA, "ae:1:criminal-record", tg.last_message(GROUP_ID))
    assert await tg.helpdesk.close_idle(72) == []  # just answered
    tg.sql("UPDATE tickets SET first_reply_at = ?", OLD)
    tg.sql("UPDATE ticket_messages SET created_at = ?", OLD)

    (closed,) = await tg.helpdesk.close_idle(72)

    assert (closed.id, closed.status, closed.closed_by) == (1, "closed", "auto")


@pytest.mark.parametrize("data", ["ae:x:criminal-record", "ae:1:Criminal Record", "ae:1", "ae:1:", "ae:-1:legislation",
                                  "ae:1:criminal-record:extra", "ae:" + "9" * 30 + ":iin"])
async def test_forged_suggestion_data_gets_the_stale_reply(tg: TG, data: str) -> None:
    await tg.escalate(AIGUL, QUESTION)
    tg.clear()

    pressed = await tg.press(MARIA, data, tg.last_message(GROUP_ID))

    assert tg.answer_to(pressed)["text"] == group("stale_button")
    assert tg.sent(CITIZEN) == [] and tg.sql("SELECT count(*) FROM suggested_variants") == [(0,)]


async def test_a_suggestion_of_a_ticket_that_does_not_exist_or_outside_the_group(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    tg.clear()

    missing = await tg.press(MARIA, "ae:77:criminal-record", card)
    assert tg.answer_to(missing)["text"] == group("answer_refused_missing", number=77)
    elsewhere = dict(card, chat={"id": OTHER_GROUP_ID, "type": "supergroup", "title": "Другая группа"})
    outside = await tg.press(MARIA, "ae:1:criminal-record", elsewhere)
    assert tg.answer_to(outside)["text"] == group("librarian_only")
    assert tg.sent(CITIZEN) == []


# --- /answer ---------------------------------------------------------------------------------------------------


async def test_answer_command_with_a_number_and_as_a_reply_to_the_card(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.escalate(ASEL, KK_QUESTION)
    title = tg.helpdesk.entry("criminal-record").title["ru"]
    tg.clear()

    await tg.cmd(MARIA, "/answer 1 criminal-record", GROUP_ID)

    assert tg.last(GROUP_ID).text == group("answer_ok", number=1, entry=title)
    assert tg.last(CITIZEN).text.startswith(ru("librarian_chose_entry", number=1) + "\n\n<b>" + title)
    assert tg.sql("SELECT ticket_id, entry_id FROM suggested_variants") == [(1, "criminal-record")]

    # as a reply to the card, without the number: any entry, not only the suggested ones
    card_id = (await tg.ticket(2)).card_message_id
    reply = tg.group_reply(ERZHAN, "/answer iin", card_id,
                           entities=[{"type": "bot_command", "offset": 0, "length": len("/answer")}])
    await tg.feed(reply)
    iin = tg.helpdesk.entry("iin")
    assert tg.last(GROUP_ID).text == group("answer_ok", number=2, entry=iin.title["ru"])
    assert tg.last(ASEL["id"]).text.startswith(kk("librarian_chose_entry", number=2) + "\n\n<b>" + iin.title["kk"])
    assert (await tg.ticket(2)).taken_by == "Ержан Сапаров"


async def test_answer_command_errors_say_what_was_expected_and_send_nothing(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.escalate(ASEL, "какая погода завтра в темиртау")
    tg.clear()

    async def said(text: str) -> str:
        await tg.cmd(MARIA, text, GROUP_ID)
        return tg.last(GROUP_ID).text

    for wrong in ("/answer", "/answer 1", "/answer criminal-record", "/answer x criminal-record", "/answer 1 2 3"):
        assert await said(wrong) == group("usage_answer"), wrong
    assert await said("/answer 99 criminal-record") == group("answer_refused_missing", number=99)

    unknown = await said("/answer 1 no-such-entry")
    assert unknown.startswith(group("answer_refused_entry", number=1, entry="no-such-entry"))
    assert "criminal-record — " + tg.helpdesk.entry("criminal-record").title["ru"] in unknown
    assert "alimony-paternity — " in unknown and "/answer 1 ID" in unknown

    await tg.cmd(MARIA, "/close 1", GROUP_ID)
    title = tg.helpdesk.entry("criminal-record").title["ru"]
    assert await said("/answer 1 criminal-record") == group("answer_refused_closed", number=1, entry=title)
    await tg.cmd(ASEL, "/cancel 2")
    assert await said("/answer 2 iin") == group("reply_refused_withdrawn", number=2)

    assert [c for c in tg.sent(CITIZEN) if "librarian_chose_entry" in c.text or title in c.text] == []
    assert not [c for c in tg.sent(ASEL["id"]) if c.text.startswith(kk("librarian_chose_entry", number=2))]
    assert tg.sql("SELECT count(*) FROM suggested_variants") == [(0,)]
    assert tg.sql("SELECT count(*) FROM ticket_messages WHERE direction = 'librarian'") == [(0,)]


async def test_answer_command_for_a_ticket_nothing_fits_hints_at_ids(tg: TG) -> None:
    await tg.escalate(AIGUL, "как долететь до мадрида")
    assert tg.card(1).buttons == ["t:1", "z:1"]  # nothing fits at all: no suggestions
    tg.clear()

    await tg.cmd(MARIA, "/answer 1 madrid", GROUP_ID)

    assert tg.last(GROUP_ID).text == (group("answer_refused_entry", number=1, entry="madrid") + "\n"
                                      + group("answer_no_suggestions", number=1))


async def test_answer_command_in_a_private_chat_says_where_librarians_work(tg: TG) -> None:
    await tg.cmd(AIGUL, "/answer 1 iin")
    assert tg.texts(CITIZEN) == [ru("librarian_only")]


def test_every_new_text_exists_in_every_language() -> None:
    assert "librarian_chose_entry" in locales.keys("ru") & locales.keys("kk") & locales.keys("en")
    assert re.search(r"[әғқңөұүһі]", kk("librarian_chose_entry", number=1))  # Kazakh, not Russian in Cyrillic
    for key in ("card_answered_with", "button_suggestion", "answer_ok", "usage_answer", "answer_suggestions"):
        assert key in locales.keys(locales.GROUP)
