"""Delivery faults: a blocked citizen (403), flood control (429 with retry_after), server errors (500), a card
the group cannot take yet, an attachment Telegram refuses to copy. Nothing is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.telegram_ui.sender import deliver_all
from bot.domain import utcnow

from .harness import AIGUL, BOLAT, DANA, GROUP_ID, MARIA, TG, group, parse_db_time, ru


@pytest.fixture
def tg(tg_any: TG) -> TG:
    """These tests run on SQLite and on PostgreSQL."""
    return tg_any

CITIZEN = AIGUL["id"]
QUESTION = "какая погода завтра в темиртау"
ANSWER = "Погоду смотрите на kazhydromet.kz"
PAST = "2000-01-01 00:00:00.000000"


async def deliver(tg: TG) -> int:
    return await deliver_all(tg.app.bot, tg.helpdesk, GROUP_ID, tg.settings.hours.zone)


def delivery_row(tg: TG, message_id: int = 1) -> tuple[int, int, int, dt.datetime]:
    delivered, failed, attempts, next_at = tg.sql(
        "SELECT delivered, failed, attempts, next_attempt_at FROM ticket_messages WHERE id = ?", message_id)[0]
    return delivered, failed, attempts, parse_db_time(next_at)


async def ticket_with_card(tg: TG) -> int:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    assert card_id is not None
    tg.clear()
    return card_id


async def test_blocked_citizen_marks_the_ticket_and_tells_the_group(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    tg.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=CITIZEN)

    await tg.librarian_reply(MARIA, ANSWER, card_id)

    (attempt,) = tg.sent(CITIZEN)
    assert attempt.status == 403
    assert group("group_blocked", number=1) in tg.texts(GROUP_ID)
    assert "⚠️ Житель заблокировал бота" in tg.card_edits(1, card_id)[-1].text
    ticket = await tg.ticket(1)
    assert ticket.citizen_blocked is True and ticket.status == "taken"
    assert tg.sql("SELECT blocked FROM citizens") == [(1,)]
    delivered, failed, _, _ = delivery_row(tg)
    assert (delivered, failed) == (0, 1)
    tg.clear()

    assert await deliver(tg) == 0  # given up: no more attempts
    assert not tg.sent(CITIZEN)


async def test_flood_control_postpones_and_a_later_pass_delivers_once(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    tg.request.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", chat_id=CITIZEN, retry_after=30)

    await tg.librarian_reply(MARIA, ANSWER, card_id)

    assert [c.status for c in tg.sent(CITIZEN)] == [429]
    assert not [t for t in tg.texts(GROUP_ID) if t.startswith("⚠️")]
    delivered, failed, attempts, next_at = delivery_row(tg)
    assert (delivered, failed, attempts) == (0, 0, 1)
    assert next_at > utcnow() + dt.timedelta(seconds=20)
    tg.clear()

    assert await deliver(tg) == 0  # not due yet
    assert not tg.sent(CITIZEN)

    tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
    assert await deliver(tg) == 1
    assert await deliver(tg) == 0

    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=1, text=ANSWER)]
    assert delivery_row(tg)[0] == 1
    assert "Ответил(а): Мария Иванова" in tg.card_edits(1, card_id)[-1].text


async def test_server_error_is_retried_once_due(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)

    await tg.librarian_reply(MARIA, ANSWER, card_id)

    assert [c.status for c in tg.sent(CITIZEN)] == [500]
    delivered, failed, attempts, next_at = delivery_row(tg)
    assert (delivered, failed, attempts) == (0, 0, 1)
    assert next_at > utcnow()
    assert not tg.errors
    tg.clear()

    tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
    await deliver(tg)
    await deliver(tg)

    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=1, text=ANSWER)]
    assert (await tg.ticket(1)).citizen_blocked is False


async def test_backoff_grows_with_attempts(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    for _ in range(3):
        tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)
    await tg.librarian_reply(MARIA, ANSWER, card_id)
    waits = []
    for _ in range(2):
        waits.append(delivery_row(tg)[3] - utcnow())
        tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
        await deliver(tg)
    waits.append(delivery_row(tg)[3] - utcnow())
    assert delivery_row(tg)[2] == 3
    assert waits[0] < waits[1] < waits[2]
    tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
    await deliver(tg)
    assert [c.status for c in tg.sent(CITIZEN)] == [500, 500, 500, 200]


async def test_card_posted_later_when_the_group_is_flooded(tg: TG) -> None:
    tg.request.fail_next("sendMessage", 429, chat_id=GROUP_ID, retry_after=5)

    await tg.say(AIGUL, QUESTION)

    (told,) = tg.texts(CITIZEN)
    assert told.startswith(ru("escalated", number=1)) and "Библиотекари отвечают: Пн–Вс" in told  # the citizen is told at once
    assert (await tg.ticket(1)).card_message_id is None
    tg.clear()

    await deliver(tg)
    await deliver(tg)

    cards = [c for c in tg.sent(GROUP_ID) if c.buttons == ["t:1", "z:1", "ae:1:library-access-points"]]
    assert len(cards) == 1
    assert (await tg.ticket(1)).card_message_id == tg.last_message(GROUP_ID)["message_id"]


async def test_citizen_follow_up_waits_for_the_card(tg: TG) -> None:
    tg.request.fail_next("sendMessage", 500, chat_id=GROUP_ID)
    tg.request.fail_next("sendMessage", 500, chat_id=GROUP_ID)
    await tg.say(AIGUL, QUESTION)
    await tg.say(AIGUL, "и ещё вопрос")
    assert (await tg.ticket(1)).card_message_id is None
    assert [c.status for c in tg.sent(GROUP_ID)] == [500, 500]  # the follow-up was not sent before its card
    tg.clear()

    await deliver(tg)

    card, follow_up = tg.sent(GROUP_ID)
    assert card.buttons == ["t:1", "z:1", "ae:1:library-access-points"]
    assert follow_up.text == "#1 · Айгуль: и ещё вопрос"
    assert follow_up.params["reply_parameters"]["message_id"] == (await tg.ticket(1)).card_message_id


async def test_refused_attachment_is_sent_as_text_in_the_end(tg: TG) -> None:
    await ticket_with_card(tg)
    for _ in range(3):
        tg.request.fail_next("copyMessage", 400, "Bad Request: message to copy not found", chat_id=GROUP_ID)

    await tg.feed(tg.media(AIGUL, "photo", caption="скриншот ошибки"))
    for _ in range(3):
        tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
        await deliver(tg)

    assert [c.status for c in tg.sent(GROUP_ID, "copyMessage")] == [400, 400, 400]
    assert tg.texts(GROUP_ID)[-1] == "#1 · Айгуль: скриншот ошибки"
    (message,) = await tg.store.tickets.messages(1)
    assert message.delivered and message.media is None


async def test_blocked_citizen_gets_no_rating_prompt(tg: TG) -> None:
    await ticket_with_card(tg)
    tg.request.fail_next("sendMessage", 403, chat_id=CITIZEN)

    await tg.cmd(MARIA, "/close 1", GROUP_ID)

    assert [c.status for c in tg.sent(CITIZEN)] == [403]
    assert (await tg.ticket(1)).notice is None  # not retried for ever
    tg.clear()
    await deliver(tg)
    assert not tg.sent(CITIZEN)


async def test_a_slow_librarians_group_does_not_hold_up_citizens(tg: TG) -> None:
    """Posting a card can wait a long time (20 messages a minute in a group): the citizen's reply and the
    next citizen's answer do not wait for it; the card follows in the background."""
    from telegram import Update

    gate = asyncio.Event()
    answer_bot_api = tg.request.do_request

    async def slow_group(url: str, method: str, request_data=None, **kwargs):
        if request_data is not None and request_data.parameters.get("chat_id") == GROUP_ID:
            await gate.wait()
        return await answer_bot_api(url, method, request_data, **kwargs)

    tg.request.do_request = slow_group
    unmatched = Update.de_json(tg.private_text(AIGUL, QUESTION), tg.app.bot)
    await asyncio.wait_for(tg.app.process_update(unmatched), 5)
    assert ru("escalated", number=1).split("\n")[0] in tg.last(CITIZEN).text
    answerable = Update.de_json(tg.private_text(BOLAT, "как получить эцп"), tg.app.bot)
    await asyncio.wait_for(tg.app.process_update(answerable), 5)
    assert tg.sent(BOLAT["id"])  # answered while the card still waits
    assert tg.sent(GROUP_ID) == []  # the card is still on its way

    gate.set()
    await tg.app.bot_data["courier"].settled()
    assert "#1" in tg.last(GROUP_ID).text


async def test_an_answer_meeting_a_server_error_is_sent_again(tg: TG) -> None:
    """A citizen's answer is sent from the handler, not stored first: a 5xx there is retried at once."""
    tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)
    await tg.say(AIGUL, "как получить эцп")
    answers = tg.sent(CITIZEN)
    assert [c.status for c in answers] == [500, 200] and answers[0].text == answers[1].text
    assert "pki.gov.kz" in answers[1].text


async def test_an_answer_meeting_flood_control_waits_and_is_sent(tg: TG) -> None:
    tg.request.fail_next("sendMessage", 429, chat_id=CITIZEN, retry_after=1)
    started = dt.datetime.now()
    await tg.say(AIGUL, "как получить эцп")
    assert [c.status for c in tg.sent(CITIZEN)] == [429, 200]
    assert (dt.datetime.now() - started).total_seconds() >= 1.0  # Telegram's retry_after was respected


async def test_an_answer_that_keeps_failing_ends_in_the_error_handler(tg: TG) -> None:
    for _ in range(5):
        tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)
    await tg.feed(tg.private_text(AIGUL, "как получить эцп"), allow_errors=True)
    sent = tg.sent(CITIZEN)
    assert [c.status for c in sent] == [500] * 5 + [200]  # four tries of the answer; the apology, retried too
    assert sent[-1].text == ru("error_try_again")  # the citizen is not left without a word
    assert tg.errors and "Internal Server Error" in str(tg.errors[-1])


# --- one bad item never blocks the others ----------------------------------------------------------------


async def test_a_poisoned_item_in_the_middle_never_stops_the_pass(tg: TG) -> None:
    """Three answers in one pass; the middle one belongs to a citizen whose chat id is not a number (a console
    citizen's row mislabelled as Telegram, or a broken row): the first and the last are delivered, the middle
    one is retried with backoff and given up after MAX_ATTEMPTS with a note in the group."""
    from bot.delivery import MAX_ATTEMPTS

    cards = []
    for user in (AIGUL, BOLAT, DANA):
        ticket = await tg.escalate(user, QUESTION)
        cards.append((await tg.ticket(ticket.id)).card_message_id)
    tg.sql("UPDATE citizens SET external_id = 'not-a-chat' WHERE external_id = ?", str(BOLAT["id"]))
    tg.clear()
    for card_id in cards:
        await tg.feed(tg.group_reply(MARIA, ANSWER, card_id))  # stored; the pass comes next
    await deliver(tg)

    assert tg.texts(AIGUL["id"]) == [ru("librarian_answer", number=1, text=ANSWER)]
    assert tg.texts(DANA["id"]) == [ru("librarian_answer", number=3, text=ANSWER)]
    delivered, failed, attempts, next_at = delivery_row(tg, 2)
    assert (delivered, failed, attempts) == (0, 0, 1) and next_at > utcnow()
    for _ in range(MAX_ATTEMPTS):
        tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 2", PAST)
        await deliver(tg)
    delivered, failed, attempts, _ = delivery_row(tg, 2)
    assert (delivered, failed, attempts) == (0, 1, MAX_ATTEMPTS)
    notes = [t for t in tg.texts(GROUP_ID) if t.startswith("⚠️")]
    assert notes == [group("delivery_gave_up", message=2, number=2, attempts=MAX_ATTEMPTS, error="ValueError")]
    assert tg.texts(AIGUL["id"]) == [ru("librarian_answer", number=1, text=ANSWER)]  # nothing sent twice


async def test_an_unexpected_telegram_error_is_retried_and_the_rest_delivered(tg: TG) -> None:
    cards = []
    for user in (AIGUL, BOLAT):
        ticket = await tg.escalate(user, QUESTION)
        cards.append((await tg.ticket(ticket.id)).card_message_id)
    tg.clear()
    tg.request.fail_next("sendMessage", 418, "I'm a teapot", chat_id=CITIZEN)
    for card_id in cards:
        await tg.feed(tg.group_reply(MARIA, ANSWER, card_id))
    await deliver(tg)
    assert tg.texts(BOLAT["id"]) == [ru("librarian_answer", number=2, text=ANSWER)]
    tg.sql("UPDATE ticket_messages SET next_attempt_at = ? WHERE id = 1", PAST)
    await deliver(tg)
    assert ru("librarian_answer", number=1, text=ANSWER) in tg.texts(CITIZEN)


async def test_console_citizens_answers_never_go_to_telegram(tg: TG) -> None:
    console = await tg.helpdesk.citizen("console", "librarian-pc", first_name="")
    ticket = (await tg.helpdesk.escalate(console, "где купить билет в кино", "ru")).ticket
    await deliver(tg)  # the card is posted: the group is Telegram for everyone
    card_id = (await tg.ticket(ticket.id)).card_message_id
    assert card_id is not None
    tg.clear()
    await tg.librarian_reply(MARIA, ANSWER, card_id)
    await tg.cmd(MARIA, f"/close {ticket.id}", GROUP_ID)
    await deliver(tg)
    assert [c for c in tg.calls if c.chat_id not in (GROUP_ID, None)] == []  # nothing to any private chat
    assert not tg.errors
    inbox = await tg.helpdesk.inbox(console)  # the console shows them itself
    assert [type(item).__name__ for item in inbox] == ["LibrarianAnswer", "TicketClosed"]


async def test_withdrawn_ticket_card_is_redrawn_and_a_reply_refused(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    await tg.cmd(AIGUL, "/cancel 1")
    redrawn = tg.card_edits(1, card_id)[-1]
    assert group("card_withdrawn") in redrawn.text and redrawn.buttons == []
    tg.clear()
    await tg.librarian_reply(MARIA, ANSWER, card_id)
    assert tg.texts(GROUP_ID) == [group("reply_refused_withdrawn", number=1)]
    assert tg.texts(CITIZEN) == []
    assert [m.direction for m in await tg.store.tickets.messages(1)] == []


async def test_reply_after_forget_is_refused_and_other_answers_flow(tg: TG) -> None:
    card_id = await ticket_with_card(tg)
    other = await tg.escalate(BOLAT, QUESTION)
    other_card = (await tg.ticket(other.id)).card_message_id
    await tg.cmd(AIGUL, "/forget")
    await tg.press(AIGUL, "g:yes", tg.last_message(CITIZEN))
    tg.clear()
    await tg.librarian_reply(MARIA, ANSWER, card_id)
    await tg.librarian_reply(MARIA, ANSWER, other_card)
    assert group("reply_refused_forgotten", number=1) in tg.texts(GROUP_ID)
    assert tg.texts(BOLAT["id"]) == [ru("librarian_answer", number=2, text=ANSWER)]
    assert tg.texts(CITIZEN) == [] and not tg.errors
