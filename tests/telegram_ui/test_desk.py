"""The librarians' desk in the group: canned replies (/r), Release (button and /release) and /queue with whose
turn it is; forged data, the wrong librarian and bad input get a clear reply and change nothing."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from bot.knowledge import bundled_knowledge_dir
from bot.telegram_ui.sender import deliver_all

from .harness import AIGUL, ASEL, BOLAT, EDITOR, ERZHAN, GROUP_ID, MARIA, TG, group, kk, replace_settings, ru

CITIZEN = AIGUL["id"]
QUESTION = "какая погода завтра в темиртау"
KAZAKH_QUESTION = "ертең Теміртауда ауа райы қандай болады"


def card_buttons(call) -> list[str]:
    """The card's own buttons (take, close, release ...), without the suggested entries under them."""
    return [b for b in call.buttons if not b.startswith("ae:")]


@pytest.fixture
def tg(tg_any: TG) -> TG:
    """These tests run on SQLite and on PostgreSQL."""
    return tg_any


async def card_of(tg: TG, user=AIGUL, question: str = QUESTION) -> tuple[int, dict]:
    ticket = await tg.escalate(user, question)
    return ticket.id, tg.last_message(GROUP_ID)


async def reply_cmd(tg: TG, librarian, text: str, reply_to: int) -> dict:
    """A command sent as a reply to a message of the group."""
    update = tg.group_reply(librarian, text, reply_to)
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    await tg.feed(update)
    return update["message"]


# --- /r: canned replies --------------------------------------------------------------------------------------


async def test_r_alone_lists_the_replies_with_ids_and_titles(tg: TG) -> None:
    await tg.cmd(MARIA, "/r", GROUP_ID)

    lines = tg.last(GROUP_ID).text.splitlines()
    assert lines[0] == group("canned_list_title")
    replies = tg.helpdesk.canned_replies
    assert lines[1:-1] == [f"{r.id} — {r.title['ru']}" for r in replies]
    assert lines[-1] == group("canned_list_example", id=replies[0].id)
    assert "come-with-id — Приходите в библиотеку с удостоверением" in lines


async def test_r_sends_the_reply_in_the_tickets_language_and_takes_the_ticket(tg: TG) -> None:
    number, card = await card_of(tg)
    tg.clear()

    command = await reply_cmd(tg, MARIA, "/r call-1414", card["message_id"])

    reply = tg.helpdesk.canned("call-1414")
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=number, text=reply.text["ru"])]
    assert tg.last(GROUP_ID).text == group("canned_sent", number=number, title=reply.title["ru"])
    ticket = await tg.ticket(number)
    assert (ticket.status, ticket.taken_by) == ("taken", "Мария Иванова") and ticket.first_reply_at is not None
    edit = tg.card_edits(number, card["message_id"])[-1]
    assert "Ответил(а): Мария Иванова" in edit.text
    (message,) = await tg.store.tickets.messages(number)
    assert (message.direction, message.delivered, message.text) == ("librarian", True, reply.text["ru"])
    assert (message.group_message_id, message.in_reply_to) == (command["message_id"], card["message_id"])
    assert tg.sql("SELECT ticket_id, reply_id, librarian FROM canned_uses") == [(number, "call-1414", "Мария Иванова")]


async def test_r_in_kazakh_with_a_personal_line(tg: TG) -> None:
    number, card = await card_of(tg, ASEL, KAZAKH_QUESTION)
    assert (await tg.ticket(number)).lang == "kk"
    tg.clear()

    await reply_cmd(tg, MARIA, "/r COME-WITH-ID   Біз 18:00-ге дейін жұмыс істейміз", card["message_id"])

    text = tg.helpdesk.canned("come-with-id").text["kk"] + "\n\nБіз 18:00-ге дейін жұмыс істейміз"
    assert tg.texts(ASEL["id"]) == [kk("librarian_answer", number=number, text=text)]


async def test_r_as_a_reply_to_a_relayed_message_and_a_personal_line_in_russian(tg: TG) -> None:
    number, _ = await card_of(tg)
    await tg.say(AIGUL, "А на завтра есть прогноз?")
    relayed = tg.last_message(GROUP_ID)
    tg.clear()

    await reply_cmd(tg, ERZHAN, "/r@egov_bot come-with-id Мы открыты до 18:00", relayed["message_id"])

    text = tg.helpdesk.canned("come-with-id").text["ru"] + "\n\nМы открыты до 18:00"
    assert tg.texts(CITIZEN) == [ru("librarian_answer", number=number, text=text)]
    assert (await tg.ticket(number)).taken_by == "Ержан Сапаров"


async def test_r_with_an_unknown_id_lists_the_ids_and_sends_nothing(tg: TG) -> None:
    number, card = await card_of(tg)
    tg.clear()

    await reply_cmd(tg, MARIA, "/r come-with-passport Мы открыты", card["message_id"])

    ids = ", ".join(r.id for r in tg.helpdesk.canned_replies)
    assert [c.text for c in tg.calls] == [group("canned_unknown", id="come-with-passport", ids=ids)]
    assert await tg.store.tickets.messages(number) == []
    assert (await tg.ticket(number)).status == "open"
    assert tg.sql("SELECT count(*) FROM canned_uses") == [(0,)]


async def test_r_not_as_a_reply_or_to_a_message_of_no_ticket_sends_nothing(tg: TG) -> None:
    number, _ = await card_of(tg)
    await tg.cmd(MARIA, "/queue", GROUP_ID)
    queue = tg.last_message(GROUP_ID)
    tg.clear()

    await tg.cmd(MARIA, "/r call-1414", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("canned_not_reply", id="call-1414")
    await reply_cmd(tg, MARIA, "/r call-1414", queue["message_id"])
    assert tg.last(GROUP_ID).text == group("reply_not_ticket")
    plain = tg.group_text(ERZHAN, "всем привет")
    await tg.feed(plain)
    await reply_cmd(tg, MARIA, "/r call-1414", plain["message"]["message_id"])  # a librarian's own message
    assert tg.last(GROUP_ID).text == group("reply_not_ticket")

    assert tg.sent(CITIZEN) == [] and await tg.store.tickets.messages(number) == []


async def test_r_on_a_withdrawn_ticket_is_refused(tg: TG) -> None:
    number, card = await card_of(tg)
    await tg.cmd(AIGUL, f"/cancel {number}")
    tg.clear()

    await reply_cmd(tg, MARIA, "/r call-1414", card["message_id"])

    assert tg.last(GROUP_ID).text == group("reply_refused_withdrawn", number=number)
    assert tg.sent(CITIZEN) == [] and await tg.store.tickets.messages(number) == []


async def test_r_outside_the_group_says_where_it_works(tg: TG) -> None:
    await tg.cmd(BOLAT, "/r call-1414")
    assert tg.texts(BOLAT["id"]) == [ru("librarian_only")]


async def test_r_is_durable_a_failed_delivery_is_retried_once(tg: TG) -> None:
    number, card = await card_of(tg)
    tg.clear()
    tg.request.fail_next("sendMessage", 500, chat_id=CITIZEN)

    await reply_cmd(tg, MARIA, "/r call-1414", card["message_id"])
    assert [bool(delivered) for (delivered,) in tg.sql("SELECT delivered FROM ticket_messages")] == [False]
    tg.sql("UPDATE ticket_messages SET next_attempt_at = '2000-01-01 00:00:00'")
    await deliver_all(tg.app.bot, tg.helpdesk, GROUP_ID)
    await deliver_all(tg.app.bot, tg.helpdesk, GROUP_ID)

    text = ru("librarian_answer", number=number, text=tg.helpdesk.canned("call-1414").text["ru"])
    delivered = [c for c in tg.sent(CITIZEN) if c.status == 200]
    assert [c.text for c in delivered] == [text]


# --- Release: the button and /release --------------------------------------------------------------------------


async def test_release_button_puts_the_ticket_back_and_redraws_the_card(tg: TG) -> None:
    number, card = await card_of(tg)
    await tg.press(MARIA, f"t:{number}", card)
    taken = tg.card_edits(number, card["message_id"])[-1]
    assert card_buttons(taken) == [f"z:{number}", f"u:{number}"]
    assert [b["text"] for b in taken.params["reply_markup"]["inline_keyboard"][0]] == [group("button_close"),
                                                                                       group("button_release")]
    tg.clear()

    query = await tg.press(MARIA, f"u:{number}", card)

    answer = tg.answer_to(query)
    assert answer["text"] == group("release_ok", number=number) and not answer.get("show_alert")
    ticket = await tg.ticket(number)
    assert (ticket.status, ticket.taken_by) == ("open", None)
    (edit,) = tg.card_edits(number, card["message_id"])
    assert card_buttons(edit) == [f"t:{number}", f"z:{number}"] and "Взял(а)" not in edit.text

    other = await tg.press(ERZHAN, f"t:{number}", card)  # anyone may take it now
    assert tg.answer_to(other)["text"] == group("take_ok", number=number)
    assert (await tg.ticket(number)).taken_by == "Ержан Сапаров"


async def test_release_by_another_librarian_is_politely_refused(tg: TG) -> None:
    number, card = await card_of(tg)
    await tg.press(MARIA, f"t:{number}", card)
    tg.clear()

    query = await tg.press(ERZHAN, f"u:{number}", card)

    answer = tg.answer_to(query)
    assert answer["show_alert"] is True
    assert answer["text"] == group("release_not_yours", number=number, librarian="Мария Иванова")
    assert (await tg.ticket(number)).taken_by == "Мария Иванова"
    assert tg.card_edits(number, card["message_id"]) == []


async def test_release_of_an_untaken_closed_or_missing_ticket(tg: TG) -> None:
    number, card = await card_of(tg)
    tg.clear()
    query = await tg.press(MARIA, f"u:{number}", card)  # an old card still showing the button, say
    assert tg.answer_to(query)["text"] == group("release_not_taken", number=number)
    await tg.cmd(MARIA, f"/close {number}", GROUP_ID)
    query = await tg.press(MARIA, f"u:{number}", card)
    assert tg.answer_to(query)["text"] == group("take_closed", number=number)
    query = await tg.press(MARIA, "u:4242", card)
    assert tg.answer_to(query)["text"] == group("ticket_missing", number=4242)


@pytest.mark.parametrize("data", ["u:", "u:abc", "u:-1", "u:1:2", "u:" + "9" * 30, "u:1 "])
async def test_forged_release_data_is_a_stale_button(tg: TG, data: str) -> None:
    number, card = await card_of(tg)
    await tg.press(MARIA, f"t:{number}", card)
    tg.clear()

    query = await tg.press(MARIA, data, card)

    answer = tg.answer_to(query)
    assert answer["show_alert"] is True and answer["text"] == group("stale_button")
    assert (await tg.ticket(number)).taken_by == "Мария Иванова"


async def test_release_button_outside_the_group_is_refused(tg: TG) -> None:
    number, card = await card_of(tg)
    await tg.press(MARIA, f"t:{number}", card)
    query = await tg.press(MARIA, f"u:{number}", {"message_id": 1, "date": 0, "chat": tg.private_chat(MARIA),
                                                   "from": {"id": 999, "is_bot": True, "first_name": "egov"},
                                                   "text": "x"})
    assert tg.answer_to(query)["text"] == ru("librarian_only")
    assert (await tg.ticket(number)).status == "taken"


async def test_release_command(tg: TG) -> None:
    number, card = await card_of(tg)
    await tg.cmd(MARIA, f"/take {number}", GROUP_ID)
    tg.clear()

    await tg.cmd(MARIA, "/release", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("usage_release")
    await tg.cmd(MARIA, "/release 4242", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("ticket_missing", number=4242)
    await tg.cmd(ERZHAN, f"/release {number}", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("release_not_yours", number=number, librarian="Мария Иванова")
    assert (await tg.ticket(number)).status == "taken"

    await reply_cmd(tg, MARIA, "/release", card["message_id"])  # as a reply to the card

    assert tg.last(GROUP_ID).text == group("release_ok", number=number)
    assert (await tg.ticket(number)).status == "open"
    assert card_buttons(tg.card_edits(number, card["message_id"])[-1]) == [f"t:{number}", f"z:{number}"]
    await tg.cmd(MARIA, f"/release #{number}", GROUP_ID)
    assert tg.last(GROUP_ID).text == group("release_not_taken", number=number)


# --- /queue --------------------------------------------------------------------------------------------------


async def test_queue_shows_age_who_has_it_and_whose_turn_it_is(tg: TG) -> None:
    for citizen in (AIGUL, BOLAT, ASEL):
        await tg.escalate(citizen, f"{QUESTION} {citizen['first_name']}")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for number, minutes in ((1, 3 * 24 * 60 + 5), (2, 125), (3, 7)):
        moment = (now - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")
        tg.sql(f"UPDATE tickets SET created_at = '{moment}' WHERE id = {number}")
    await tg.cmd(MARIA, "/take 2", GROUP_ID)
    await tg.librarian_reply(MARIA, "Уточните город", (await tg.ticket(2)).card_message_id)
    await tg.librarian_reply(ERZHAN, "Смотрите kazhydromet.kz", (await tg.ticket(3)).card_message_id)
    await tg.say(ASEL, "рахмет, тағы бір сұрақ: ертең жаңбыр бола ма")  # the citizen wrote last on #3
    tg.clear()

    await tg.cmd(MARIA, "/queue", GROUP_ID)

    lines = tg.last(GROUP_ID).text.splitlines()
    assert lines[0] == group("queue_title")
    rows = [line.split(" · ") for line in lines[1:]]
    assert [row[0] for row in rows] == ["#1", "#2", "#3"]  # oldest first
    assert [row[1] for row in rows] == [group("age_days", days=3), group("age_hours", hours=2, minutes=5),
                                        group("age_minutes", minutes=7)]
    assert [row[2] for row in rows] == [group("queue_state_open"), group("queue_state_taken", librarian="Мария Иванова"),
                                        group("queue_state_taken", librarian="Ержан Сапаров")]
    assert [row[3] for row in rows] == [group("queue_waiting_librarians"), group("queue_waiting_citizen"),
                                        group("queue_waiting_librarians")]
    assert rows[0][4] == f"{QUESTION} Айгуль"


async def test_queue_marks_tickets_past_their_reminder(make_tg) -> None:
    from bot.reminders import Timers

    tg = await make_tg(timers=Timers(take_minutes=30, reply_minutes=60, digest=False))
    for citizen in (AIGUL, BOLAT, ASEL):
        await tg.escalate(citizen, f"{QUESTION} {citizen['first_name']}")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    def ago(minutes: int) -> str:
        return (now - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")

    tg.sql(f"UPDATE tickets SET created_at = '{ago(45)}' WHERE id = 1")  # untaken for 45 min: past the 30
    tg.sql(f"UPDATE tickets SET created_at = '{ago(20)}' WHERE id = 2")  # untaken for 20 min: not yet
    await tg.cmd(MARIA, "/take 3", GROUP_ID)
    tg.sql(f"UPDATE tickets SET created_at = '{ago(90)}', taken_at = '{ago(70)}' WHERE id = 3")  # taken 70 min ago, no reply
    tg.clear()

    await tg.cmd(MARIA, "/queue", GROUP_ID)

    rows = [line.split(" · ") for line in tg.last(GROUP_ID).text.splitlines()[1:]]
    late = group("queue_waiting_librarians") + " " + group("queue_past_reminder")
    assert {row[0]: row[3] for row in rows} == {"#3": late, "#1": late, "#2": group("queue_waiting_librarians")}


async def test_release_and_queue_commands_in_a_private_chat(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.cmd(MARIA, "/take 1", GROUP_ID)
    tg.clear()
    await tg.cmd(MARIA, "/release 1")
    assert tg.texts(MARIA["id"]) == [ru("librarian_only")]
    assert (await tg.ticket(1)).status == "taken"


# --- /reload with the rest of the knowledge base ------------------------------------------------------------------


async def test_reload_refuses_a_broken_replies_file_and_serves_a_good_one(make_tg, settings, tmp_path) -> None:
    directory = tmp_path / "kb"
    shutil.copytree(bundled_knowledge_dir(), directory)
    replies = directory / "replies.yaml"
    good = replies.read_text(encoding="utf-8")
    replies.write_text(good.replace("- id: call-1414", "- id: come-with-id"), encoding="utf-8")
    tg: TG = await make_tg(replace_settings(settings, knowledge_dir=directory))
    number, card = await card_of(tg)
    before = tg.helpdesk.knowledge

    await tg.cmd(EDITOR, "/reload")

    (reply,) = tg.texts(EDITOR["id"])
    assert reply.startswith(ru("reload_failed", errors="").rstrip())
    assert re.search(r"kb/replies\.yaml:\d+: error: reply id come-with-id is used twice", reply)
    assert tg.helpdesk.knowledge is before and tg.helpdesk.canned("call-1414") is not None

    replies.write_text(good.replace("- id: call-1414", "- id: call-the-centre"), encoding="utf-8")
    await tg.cmd(EDITOR, "/reload")
    assert tg.helpdesk.canned("call-1414") is None
    tg.clear()
    await reply_cmd(tg, MARIA, "/r call-1414", card["message_id"])
    assert "call-the-centre" in tg.last(GROUP_ID).text and tg.sent(CITIZEN) == []
    await reply_cmd(tg, MARIA, "/r call-the-centre", card["message_id"])
    assert "1414" in tg.last(CITIZEN).text


async def test_stats_count_answers_with_an_entry_and_the_canned_replies_used(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    await tg.escalate(BOLAT, QUESTION + " 2")
    await tg.cmd(MARIA, "/answer 1 criminal-record", GROUP_ID)
    await reply_cmd(tg, MARIA, "/r call-1414", (await tg.ticket(2)).card_message_id)
    await reply_cmd(tg, ERZHAN, "/r call-1414 Мы открыты до 18:00", (await tg.ticket(2)).card_message_id)

    figures = await tg.helpdesk.desk_stats(30)

    assert figures.tickets == 2
    assert figures.suggested == 0.5  # of the two answered tickets, one with a knowledge-base entry
    assert figures.canned == (("call-1414", 2),)
