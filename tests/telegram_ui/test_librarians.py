"""The librarians' group: cards, replies both ways, Take / Close, /queue, ratings, not-helpful tickets, and the
updates the bot must ignore (other groups, channels, edits)."""

from __future__ import annotations

import re

import pytest

from bot import locales
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.sender import deliver_all

from .harness import AIGUL, BOLAT, DANA, ERZHAN, GROUP_ID, MARIA, OTHER_GROUP_ID, TG, group, ru


@pytest.fixture
def tg(tg_any: TG) -> TG:
    """These tests run on SQLite and on PostgreSQL."""
    return tg_any

CITIZEN = AIGUL["id"]
QUESTION = "какая погода завтра в темиртау"
PHONE = re.compile(r"\+?\d[\d ()\-]{8,}\d")


# --- 3. escalation and the card -----------------------------------------------------------------------


async def test_unmatched_question_opens_a_ticket_and_posts_its_card(tg: TG) -> None:
    await tg.feed(tg.media(AIGUL, "contact"))  # the phone number the citizen shared must never reach the card
    tg.clear()

    await tg.say(AIGUL, QUESTION)

    (told,) = tg.texts(CITIZEN)
    assert told.startswith(ru("escalated", number=1)) and "Библиотекари отвечают: Пн–Вс" in told
    card = tg.card(1)
    assert card.params["parse_mode"] == "HTML"
    assert card.buttons == ["t:1", "z:1", "ae:1:library-access-points"]  # the suggestion: see test_answers.py
    assert [b["text"] for b in card.params["reply_markup"]["inline_keyboard"][0]] == [group("button_take"),
                                                                                      group("button_close")]
    assert card.text.startswith("#1 · ru · Айгуль · ")
    assert f"Вопрос: {QUESTION}" in card.text
    assert "Бот предлагал:" in card.text  # the candidates the matcher considered
    assert not PHONE.search(card.text) and "7011234567" not in card.text
    ticket = await tg.ticket(1)
    assert (ticket.status, ticket.kind, ticket.question, ticket.lang) == ("open", "unmatched", QUESTION, "ru")
    assert ticket.card_message_id == tg.last_message(GROUP_ID)["message_id"]
    assert tg.sql("SELECT decision FROM questions") == [("escalate",)]


async def test_html_in_a_question_is_escaped_in_the_card_and_the_queue(tg: TG) -> None:
    citizen = dict(AIGUL, first_name="<i>Ай</i>")
    await tg.say(citizen, "<b>погода</b> в темиртау & <a href='x'>ссылка</a>")

    card = tg.card(1).text
    assert "&lt;b&gt;погода&lt;/b&gt; в темиртау &amp; &lt;a href=&#x27;x&#x27;&gt;" in card
    assert "<b>" not in card and "<a " not in card and "<i>" not in card
    assert "&lt;i&gt;Ай&lt;/i&gt;" in card

    await tg.cmd(MARIA, "/queue", GROUP_ID)
    queue = tg.last(GROUP_ID)
    assert queue.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;погода&lt;/b&gt;" in queue.text and "<b>" not in queue.text

    await tg.say(citizen, "ещё <u>деталь</u>")
    assert "ещё &lt;u&gt;деталь&lt;/u&gt;" in tg.last(GROUP_ID).text

    await tg.librarian_reply(MARIA, "Смотрите <script>x</script> & egov.kz", (await tg.ticket(1)).card_message_id)
    answer = tg.last(CITIZEN)
    assert answer.params["parse_mode"] == "HTML"
    assert "&lt;script&gt;x&lt;/script&gt; &amp; egov.kz" in answer.text


# --- 4. replies both ways ------------------------------------------------------------------------------------


async def test_librarian_reply_reaches_the_citizen_and_a_second_round_works(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    tg.clear()

    reply = await tg.librarian_reply(MARIA, "Погоду смотрите на сайте Казгидромета.", card_id)

    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=1, text="Погоду смотрите на сайте Казгидромета.")]
    assert tg.texts(CITIZEN)[0].startswith("Ответ библиотекаря на ваш вопрос #1:")
    edit = tg.card_edits(1, card_id)[-1]
    assert "Ответил(а): Мария Иванова" in edit.text
    assert "Взял(а): Мария Иванова" in edit.text  # replying takes an open ticket
    assert edit.buttons == ["z:1", "u:1", "d:1", "ae:1:library-access-points"]
    ticket = await tg.ticket(1)
    assert (ticket.status, ticket.taken_by) == ("taken", "Мария Иванова")
    assert ticket.first_reply_at is not None
    (message,) = await tg.store.tickets.messages(1)
    assert (message.direction, message.delivered, message.author) == ("librarian", True, "Мария Иванова")
    assert message.group_message_id == reply["message_id"]
    assert not [t for t in tg.texts(GROUP_ID) if t.startswith("⚠️")]
    tg.clear()

    # second round: the citizen writes again, the message goes to the group as a reply to the card
    await tg.say(AIGUL, "А на завтра есть прогноз?")
    assert tg.texts(CITIZEN) == [ru("follow_up", number=1)]
    (posted,) = tg.sent(GROUP_ID)
    assert posted.text == "#1 · Айгуль: А на завтра есть прогноз?"
    assert posted.params["reply_parameters"]["message_id"] == card_id
    posted_id = tg.last_message(GROUP_ID)["message_id"]
    tg.clear()

    # ... and another librarian replies to that message, not to the card
    await tg.librarian_reply(ERZHAN, "Да, на kazhydromet.kz.", posted_id)

    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=1, text="Да, на kazhydromet.kz.")]
    assert "Ответил(а): Ержан Сапаров" in tg.card_edits(1, card_id)[-1].text
    assert (await tg.ticket(1)).taken_by == "Мария Иванова"  # still hers
    messages = await tg.store.tickets.messages(1)
    assert [(m.direction, m.delivered) for m in messages] == [("librarian", True), ("citizen", True), ("librarian", True)]


async def test_librarian_photo_is_copied_to_the_citizen(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    tg.clear()

    photo = [{"file_id": "lib-photo", "file_unique_id": "lp", "width": 800, "height": 600}]
    reply = await tg.librarian_reply(MARIA, "", card_id, photo=photo, caption="Вот где это")

    assert tg.texts(CITIZEN) == []  # once: the copy carries the answer, no text repeating it before
    (copy,) = tg.sent(CITIZEN, "copyMessage")
    assert (int(copy.params["from_chat_id"]), int(copy.params["message_id"])) == (GROUP_ID, reply["message_id"])
    assert copy.params["caption"] == ru("librarian_answer", number=1, text="Вот где это")


async def test_citizen_media_copy_can_be_answered(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.feed(tg.media(AIGUL, "document", caption="мой документ"))
    copy_id = tg.last_message(GROUP_ID)["message_id"]  # the copy in the group
    tg.clear()

    await tg.librarian_reply(MARIA, "Документ получила.", copy_id)
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=1, text="Документ получила.")]


async def test_replies_that_are_not_about_a_ticket(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.cmd(MARIA, "/queue", GROUP_ID)
    queue_id = tg.last_message(GROUP_ID)["message_id"]
    tg.clear()

    # a reply to a bot message that is no ticket's: the librarian is told how to answer
    await tg.librarian_reply(MARIA, "Это ответ?", queue_id)
    (hint,) = tg.sent(GROUP_ID)
    assert hint.text == group("reply_not_ticket")
    tg.clear()

    # librarians talking among themselves, and plain group messages: the bot keeps quiet
    talk_update = tg.group_text(ERZHAN, "Коллеги, кто возьмёт?")
    await tg.feed(talk_update)
    talk = talk_update["message"]
    await tg.feed(tg.group_reply(MARIA, "Я возьму", talk["message_id"]))
    assert tg.calls == []
    assert [m.direction for m in await tg.store.tickets.messages(1)] == []


# --- 5. take, close, queue ------------------------------------------------------------------------------------


async def test_two_librarians_press_take(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    tg.clear()

    first = await tg.press(MARIA, "t:1", card)
    second = await tg.press(ERZHAN, "t:1", card)

    mine = tg.answer_to(first)
    assert mine["text"] == group("take_ok", number=1) == "Вопрос #1 ваш."
    assert not mine.get("show_alert")
    theirs = tg.answer_to(second)
    assert theirs["text"] == group("take_taken", number=1, librarian="Мария Иванова")
    assert theirs["show_alert"] is True
    ticket = await tg.ticket(1)
    assert (ticket.status, ticket.taken_by) == ("taken", "Мария Иванова")
    (edit,) = tg.card_edits(1, card["message_id"])  # the second press changes nothing
    assert "Взял(а): Мария Иванова" in edit.text and edit.buttons == ["z:1", "u:1", "ae:1:library-access-points"]

    again = await tg.press(MARIA, "t:1", card)
    assert tg.answer_to(again)["text"] == group("take_ok", number=1)


async def test_take_close_and_queue_commands(tg: TG) -> None:
    for citizen in (AIGUL, BOLAT, DANA):
        await tg.escalate(citizen, f"{QUESTION} от {citizen['first_name']}")
    # #3 is the oldest: the queue is by age, not by number
    tg.sql("UPDATE tickets SET created_at = '2020-01-01 09:00:00.000000' WHERE id = 3")
    tg.clear()

    await tg.cmd(ERZHAN, "/take 2", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("take_ok", number=2)
    await tg.cmd(MARIA, "/take 2", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("take_taken", number=2, librarian="Ержан Сапаров")
    await tg.cmd(MARIA, "/take@egov_bot #1", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("take_ok", number=1)
    await tg.cmd(MARIA, "/take", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("usage_take")
    await tg.cmd(MARIA, "/take 99", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("ticket_missing", number=99)

    await tg.cmd(MARIA, "/close 1", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("close_ok", number=1)
    assert (await tg.ticket(1)).status == "closed"
    await tg.cmd(MARIA, "/close 1", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("close_missing", number=1)
    await tg.cmd(MARIA, "/close", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("usage_close")
    await tg.cmd(ERZHAN, "/take 1", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("take_closed", number=1)

    await tg.cmd(MARIA, "/queue", GROUP_ID)
    lines = tg.last(GROUP_ID).text.splitlines()
    assert lines[0] == group("queue_title")
    assert [line.split(" · ")[0] for line in lines[1:]] == ["#3", "#2"]
    assert lines[1].split(" · ")[2] == group("queue_state_open")
    assert lines[2].split(" · ")[2] == group("queue_state_taken", librarian="Ержан Сапаров")
    assert lines[2].endswith(f"{QUESTION} от Болат")
    assert " дн" in lines[1].split(" · ")[1]  # its age


async def test_queue_when_empty(tg: TG) -> None:
    await tg.cmd(MARIA, "/queue", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("queue_empty")


# --- 6. close and rating --------------------------------------------------------------------------------------


async def test_close_asks_the_citizen_for_a_rating(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    await tg.librarian_reply(MARIA, "Смотрите kazhydromet.kz", card["message_id"])
    tg.clear()

    query = await tg.press(MARIA, "z:1", card)

    assert tg.answer_to(query)["text"] == group("close_ok", number=1)
    (prompt,) = tg.sent(CITIZEN)
    assert prompt.text == ru("ticket_closed", number=1)
    assert prompt.buttons == [f"r:1:{n}" for n in range(1, 6)]
    edit = tg.card_edits(1, card["message_id"])[-1]
    assert "Закрыт: Мария Иванова" in edit.text and edit.buttons == ["d:1"]
    ticket = await tg.ticket(1)
    assert (ticket.status, ticket.notice) == ("closed", None)
    tg.clear()

    rating = tg.last_message(CITIZEN)
    await tg.cmd(BOLAT, "/help")
    other = await tg.press(BOLAT, "r:1:1", tg.last_message(BOLAT["id"]))  # not their ticket
    assert tg.answer_to(other)["text"] == ru("stale_button")
    out_of_range = await tg.press(AIGUL, "r:1:9", rating)
    assert tg.answer_to(out_of_range)["text"] == ru("stale_button")
    assert (await tg.ticket(1)).rating is None

    query = await tg.press(AIGUL, "r:1:5", rating)

    assert tg.answer_to(query)["text"] == ru("rating_thanks")
    assert (await tg.ticket(1)).rating == 5
    (edit,) = tg.sent(CITIZEN, "editMessageReplyMarkup")
    assert int(edit.params["message_id"]) == rating["message_id"]


async def test_rating_prompt_is_sent_once(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.cmd(MARIA, "/close 1", GROUP_ID)

    await deliver_all(tg.app.bot, tg.helpdesk, GROUP_ID)  # a later pass of the delivery job

    assert tg.texts(CITIZEN).count(ru("ticket_closed", number=1)) == 1


async def test_draft_button_after_an_answer(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    early = await tg.press(MARIA, "d:1", card)
    assert tg.answer_to(early)["text"] == group("draft_missing", number=1)

    await tg.librarian_reply(MARIA, "Смотрите kazhydromet.kz", card["message_id"])
    query = await tg.press(MARIA, "d:1", card)

    assert tg.answer_to(query)["text"] == group("draft_ok", number=1)
    assert tg.sql("SELECT question, answer FROM drafts") == [(QUESTION, "Смотрите kazhydromet.kz")]


# --- 8. not helpful -> ask a librarian ------------------------------------------------------------------------


async def test_not_helpful_offers_a_librarian_and_opens_a_ticket(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last_message(CITIZEN)
    tg.clear()

    query = await tg.press(AIGUL, "f:n:eds-obtain", answer)

    assert tg.answer_to(query)["text"] == ru("feedback_thanks")
    assert tg.sql("SELECT entry_id, helpful FROM feedback") == [("eds-obtain", 0)]
    (offer,) = tg.sent(CITIZEN)
    assert offer.text == ru("not_helpful_offer")
    assert offer.buttons == ["a:eds-obtain"]
    # The offer replies to the citizen's question, so "ask a librarian" can pass the question on.
    assert offer.params["reply_parameters"]["message_id"] == answer["reply_to_message"]["message_id"]
    assert not await tg.helpdesk.queue()
    tg.clear()

    await tg.press(AIGUL, "a:eds-obtain", tg.last_message(CITIZEN))

    (ticket,) = await tg.helpdesk.queue()
    assert (ticket.kind, ticket.entry_id) == ("not-helpful", "eds-obtain")
    (told,) = tg.texts(CITIZEN)
    assert told.startswith(ru("escalated", number=ticket.id)) and "Библиотекари отвечают: Пн–Вс" in told
    assert "Не помог ответ: Как получить ЭЦП" in tg.card(ticket.id).text
    assert tg.sent(CITIZEN, "editMessageReplyMarkup")  # the offer's button is gone


# --- 13. where librarian commands work, and what the bot ignores -----------------------------------------------


async def test_librarian_commands_in_a_private_chat(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    tg.clear()
    for command in ("/queue", "/take 1", "/close 1"):
        await tg.cmd(BOLAT, command)
    assert tg.texts(BOLAT["id"]) == [ru("librarian_only")] * 3
    assert [c.method for c in tg.calls] == ["sendMessage"] * 3
    assert (await tg.ticket(1)).status == "open"


async def test_card_buttons_outside_the_group_are_refused(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    tg.clear()
    query = await tg.press(BOLAT, "t:1", {"message_id": 1, "date": 0, "chat": tg.private_chat(BOLAT),
                                          "from": {"id": 999, "is_bot": True, "first_name": "egov"}, "text": "x"})
    answer = tg.answer_to(query)
    assert answer["show_alert"] is True and answer["text"] == ru("librarian_only")
    assert (await tg.ticket(1)).status == "open"


async def test_other_groups_channels_and_edits_are_ignored(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(1)).card_message_id
    tg.clear()

    updates = [
        tg.group_text(BOLAT, "как получить эцп", OTHER_GROUP_ID),
        tg.group_text(BOLAT, QUESTION, OTHER_GROUP_ID),
        tg.command(BOLAT, "/start", OTHER_GROUP_ID),
        tg.command(MARIA, "/queue", OTHER_GROUP_ID),
        tg.command(MARIA, "/take 1", OTHER_GROUP_ID),
        tg.command(MARIA, "/close 1", OTHER_GROUP_ID),
        tg.group_reply(MARIA, "ответ не туда", card_id, chat_id=OTHER_GROUP_ID),
        tg.media(BOLAT, "photo", chat={"id": OTHER_GROUP_ID, "type": "supergroup", "title": "Другая группа"}),
        tg.channel_post("/start"),
        tg.channel_post("как получить эцп"),
        tg.edited(AIGUL, "как получить эцп"),
        tg.edited(BOLAT, QUESTION),
        tg.group_text(MARIA, "всем привет"),  # the librarians' group, not a reply: nothing to do
        tg.command(MARIA, "/start", GROUP_ID),
    ]
    for update in updates:
        await tg.feed(update)

    assert tg.calls == []
    assert tg.sql("SELECT count(*) FROM tickets") == [(1,)]
    assert tg.sql("SELECT count(*) FROM ticket_messages") == [(0,)]
    assert tg.sql("SELECT count(*) FROM citizens") == [(1,)]
    assert (await tg.ticket(1)).status == "open"


async def test_reply_to_a_card_the_database_does_not_know_reaches_the_citizen(tg: TG) -> None:
    """The bot was stopped after posting a card but before writing down its id: the card's "#N" routes the reply."""
    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    await tg.store.outbox.card_posted(ticket.id, 0)  # as if the id had never been written down
    tg.clear()
    await tg.feed(tg.group_reply(MARIA, "Завтра солнечно.", card_id))
    (delivered,) = tg.texts(CITIZEN)
    assert delivered == locales.text("ru", "librarian_answer", number=ticket.id, text="Завтра солнечно.")


async def test_reply_to_a_bot_message_without_a_ticket_number_is_not_routed(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    tg.clear()
    await tg.feed(tg.group_reply(MARIA, "ответ", 99999))
    assert tg.texts(CITIZEN) == []
    assert tg.texts(GROUP_ID) == [locales.text(locales.GROUP, "reply_not_ticket")]


# --- conversations with the librarian, idle tickets ------------------------------------------------------------


async def test_an_answerable_question_with_an_open_ticket_is_answered(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    tg.clear()
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last(CITIZEN)
    assert answer.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]
    assert ru("pending_ticket", number=1) in answer.text
    assert [m for m in await tg.store.tickets.messages(1) if m.direction == "citizen"] == []
    await tg.say(AIGUL, "а где купить билет в кино")  # the bot cannot answer: a follow-up, logged for stats
    assert tg.texts(CITIZEN)[-1] == ru("follow_up", number=1)
    assert tg.sql("SELECT decision FROM questions ORDER BY id")[-1] == ("escalate",)


async def test_a_reply_to_the_ticket_thread_or_soon_after_the_librarian_is_a_follow_up(tg: TG) -> None:
    """The rule: a message replying to a bot message that names the open ticket (#N), or sent within 10
    minutes of the librarian's last message on it, goes to the ticket even if the bot could answer it."""
    ticket = await tg.escalate(AIGUL, QUESTION)
    confirmation = tg.last_message(CITIZEN)  # "... #1 ..."
    card_id = (await tg.ticket(ticket.id)).card_message_id
    # 1. A reply to the bot's message about ticket #1.
    update = tg.private_text(AIGUL, "как получить эцп")
    update["message"]["reply_to_message"] = confirmation
    await tg.feed(update)
    assert tg.texts(CITIZEN)[-1] == ru("follow_up", number=1)
    # 2. Within 10 minutes of the librarian's question.
    await tg.librarian_reply(MARIA, "Уточните, пожалуйста: вам нужна ЭЦП для ИП?", card_id)
    await tg.say(AIGUL, "как получить эцп")
    assert tg.texts(CITIZEN)[-1] == ru("follow_up", number=1)
    relayed = [m.text for m in await tg.store.tickets.messages(1) if m.direction == "citizen"]
    assert relayed == ["как получить эцп", "как получить эцп"]
    # 3. The other side of the rule: after the window, the bot answers again.
    tg.sql("UPDATE ticket_messages SET created_at = ? WHERE direction = 'librarian'", "2000-01-01 00:00:00.000000")
    await tg.say(AIGUL, "как получить эцп")
    assert tg.last(CITIZEN).buttons[:1] == ["f:y:eds-obtain"]


async def test_an_answered_ticket_silent_for_ticket_idle_hours_closes_itself(tg: TG) -> None:
    from bot.telegram_ui.jobs import idle_tickets_job

    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    await tg.librarian_reply(MARIA, "Погоду смотрите на kazhydromet.kz", card_id)
    silent = await tg.escalate(BOLAT, QUESTION)  # not answered yet: stays open however long it waits
    owed = await tg.escalate(DANA, QUESTION)  # answered, but the citizen wrote last: a librarian owes a reply
    owed_card = (await tg.ticket(owed.id)).card_message_id
    await tg.librarian_reply(MARIA, "Уточните город", owed_card)
    await tg.say(DANA, "Караганда, а где именно смотреть прогноз погоды?")

    context = BotContext(tg.app)

    await idle_tickets_job(context)
    assert (await tg.ticket(ticket.id)).status == "taken"  # not silent long enough yet
    old = "2000-01-01 00:00:00.000000"
    tg.sql("UPDATE ticket_messages SET created_at = ?", old)
    tg.sql("UPDATE tickets SET first_reply_at = ? WHERE first_reply_at IS NOT NULL", old)
    tg.clear()
    await idle_tickets_job(context)
    await tg.app.bot_data["courier"].settled()
    assert (await tg.ticket(ticket.id)).status == "closed"
    assert (await tg.ticket(silent.id)).status == "open"
    assert (await tg.ticket(owed.id)).status == "taken"
    assert tg.texts(CITIZEN) == [ru("ticket_closed", number=ticket.id)]
    assert tg.last(CITIZEN).buttons == [f"r:{ticket.id}:{n}" for n in range(1, 6)]
    redrawn = tg.card_edits(ticket.id, card_id)[-1]
    assert group("closed_automatically") in redrawn.text
    await tg.say(AIGUL, "5")  # a bare digit while the rating prompt is open
    assert (await tg.ticket(ticket.id)).rating == 5
    assert tg.texts(CITIZEN)[-1] == ru("rating_recorded", rating=5)
    await tg.say(AIGUL, "4")  # rated already: a hint, never a ticket
    assert tg.texts(CITIZEN)[-1] == ru("digits_hint")
    assert (await tg.ticket(ticket.id)).rating == 5


async def test_take_and_close_sent_as_a_reply_to_a_card_act_on_that_card(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.escalate(BOLAT, QUESTION)
    card = (await tg.ticket(2)).card_message_id
    for command in ("/take", "/close"):
        update = tg.command(MARIA, command, GROUP_ID)
        update["message"]["reply_to_message"] = tg.request.message(GROUP_ID, card)
        await tg.feed(update)
    assert tg.texts(GROUP_ID)[-2:] == [group("take_ok", number=2), group("close_ok", number=2)]
    assert (await tg.ticket(2)).status == "closed" and (await tg.ticket(1)).status == "open"
    await tg.cmd(MARIA, "/take", GROUP_ID)  # neither a number nor a reply
    assert tg.texts(GROUP_ID)[-1] == group("usage_take")


async def test_a_reply_to_any_piece_of_a_long_card_reaches_the_ticket(tg: TG) -> None:
    long_question = "где купить билет в кино? " + "очень подробно " * 400  # longer than one card
    ticket = await tg.escalate(AIGUL, long_question)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    pieces = [c for c in tg.sent(GROUP_ID) if (c.params.get("reply_parameters") or {}).get("message_id") == card_id]
    assert pieces, "the question should continue after the card"
    last_piece = tg.last_message(GROUP_ID)
    assert last_piece["message_id"] != card_id
    tg.clear()
    await tg.librarian_reply(MARIA, "Кинотеатр у вокзала", last_piece["message_id"])
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=ticket.id, text="Кинотеатр у вокзала")]


async def test_a_reply_to_any_piece_of_a_long_relayed_message_reaches_the_ticket(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    await tg.say(AIGUL, "и ещё про погоду: " + "ветер сильный " * 400)  # relayed in several messages
    relayed = [c for c in tg.sent(GROUP_ID) if "ветер" in c.text]
    last_piece = tg.last_message(GROUP_ID)
    assert len(relayed) >= 2 and "ветер" in last_piece["text"]
    tg.clear()
    await tg.librarian_reply(MARIA, "Понятно, уточню", last_piece["message_id"])
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=ticket.id, text="Понятно, уточню")]


async def test_a_draft_takes_the_reply_that_answered_the_question_and_credits_its_author(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    await tg.librarian_reply(ERZHAN, "Погоду смотрите на kazhydromet.kz", card["message_id"])
    await tg.say(AIGUL, "а как туда зайти с телефона?")  # a follow-up within the conversation
    follow_up = tg.last_message(GROUP_ID)
    await tg.librarian_reply(MARIA, "Откройте браузер и наберите адрес", follow_up["message_id"])
    await tg.press(MARIA, f"d:{ticket.id}", card)
    assert tg.sql("SELECT question, answer, created_by FROM drafts") == [
        (QUESTION, "Погоду смотрите на kazhydromet.kz", "Ержан Сапаров")]
