"""Citizens in private chats: /start and the menu, answers, clarifying, steps, media, /status, /cancel, /where."""

from __future__ import annotations

from html import escape

from bot import locales

from .harness import AIGUL, ASEL, BOLAT, GROUP_ID, TG, kk, ru

CITIZEN = AIGUL["id"]


def labels(markup: dict | None) -> list[str]:
    return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


# --- 1. /start and the menu ---------------------------------------------------------------------


async def test_start_greets_and_shows_the_menu(tg: TG) -> None:
    await tg.cmd(AIGUL, "/start")

    greeting, menu = tg.sent(CITIZEN)
    assert greeting.text == ru("greeting") + "\n\n" + ru("start_menu_hint")
    assert menu.text == ru("menu_title")
    assert menu.params["parse_mode"] == "HTML"
    data = menu.buttons
    assert data and all(d.startswith("m:c:") for d in data)
    assert {"m:c:eds", "m:c:documents", "m:c:egov"} <= set(data)
    kb = tg.helpdesk.knowledge.kb
    assert labels(menu.params["reply_markup"])[data.index("m:c:eds")] == kb.category("eds").title["ru"]
    assert [c.method for c in tg.calls] == ["sendMessage", "sendMessage"]  # and nothing else
    assert (await tg.citizen(AIGUL)).language == "ru"


async def test_start_in_kazakh_for_a_kazakh_user(tg: TG) -> None:
    await tg.cmd(ASEL, "/start")

    greeting, menu = tg.sent(ASEL["id"])
    assert greeting.text == kk("greeting") + "\n\n" + kk("start_menu_hint")
    assert greeting.text.startswith("Сәлеметсіз бе!")
    assert menu.text == kk("menu_title")
    eds = menu.buttons.index("m:c:eds")
    assert labels(menu.params["reply_markup"])[eds] == tg.helpdesk.knowledge.kb.category("eds").title["kk"]
    assert (await tg.citizen(ASEL)).language == "kk"


async def test_menu_walks_categories_and_entries(tg: TG) -> None:
    await tg.cmd(AIGUL, "/menu")
    menu = tg.last_message(CITIZEN)
    tg.clear()

    await tg.press(AIGUL, "m:c:eds", menu)
    edit = tg.last(CITIZEN, "editMessageText")
    assert int(edit.params["message_id"]) == menu["message_id"]
    assert edit.text.startswith(tg.helpdesk.knowledge.kb.category("eds").title["ru"])
    assert "m:e:eds-obtain" in edit.buttons and edit.buttons[-1] == "m:root"

    await tg.press(AIGUL, "m:e:eds-obtain", menu)
    entry = tg.last(CITIZEN)
    assert entry.text.startswith("<b>Как получить ЭЦП</b>")
    assert entry.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]
    assert entry.buttons[-2:] == ["m:c:eds", "m:root"]

    await tg.press(AIGUL, "m:root", menu)
    assert tg.last(CITIZEN, "editMessageText").text == ru("menu_title")


async def test_help_and_language_choice(tg: TG) -> None:
    await tg.cmd(AIGUL, "/help")
    assert tg.last(CITIZEN).text == ru("help")

    await tg.cmd(AIGUL, "/lang")
    choose = tg.last(CITIZEN)
    assert choose.buttons == ["l:ru", "l:kk", "l:en"]
    tg.clear()

    query = await tg.press(AIGUL, "l:kk", tg.last_message(CITIZEN))
    assert tg.answer_to(query)["text"] == kk("lang_set")
    assert (await tg.citizen(AIGUL)).language == "kk"
    notice, menu = tg.sent(CITIZEN)
    assert notice.text == kk("lang_set") + "\n" + kk("start_menu_hint")
    assert menu.text == kk("menu_title")

    await tg.cmd(AIGUL, "/status")
    assert tg.last(CITIZEN).text == kk("status_none")


# --- 2. answers -----------------------------------------------------------------------------------


async def test_matched_question_gets_the_answer_with_links_and_feedback_buttons(tg: TG) -> None:
    question = await tg.say(AIGUL, "как получить эцп")

    (answer,) = tg.sent(CITIZEN)
    assert answer.params["parse_mode"] == "HTML"
    assert answer.text.startswith("<b>Как получить ЭЦП</b>")
    assert '<a href="https://pki.gov.kz">' in answer.text or '<a href="https://egov.kz' in answer.text
    assert answer.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]
    assert labels(answer.params["reply_markup"])[:2] == [ru("button_helpful"), ru("button_not_helpful")]
    assert answer.params["reply_parameters"]["message_id"] == question["message_id"]
    assert not tg.sent(GROUP_ID)
    assert await tg.store.insights.count_questions() == 1


async def test_kazakh_question_gets_the_kazakh_answer(tg: TG) -> None:
    await tg.say(ASEL, "эцқ қалай алуға болады")

    answer = tg.last(ASEL["id"])
    entry = tg.helpdesk.entry("eds-obtain")
    assert answer.text.startswith(f"<b>{entry.title['kk']}</b>")
    assert escape(entry.answer["kk"].splitlines()[0]) in answer.text
    assert answer.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]
    assert labels(answer.params["reply_markup"])[:2] == [kk("button_helpful"), kk("button_not_helpful")]


async def test_kazakh_question_from_a_russian_interface_is_answered_in_kazakh(tg: TG) -> None:
    await tg.say(AIGUL, "эцқ қалай алуға болады")
    assert tg.last(CITIZEN).text.startswith("<b>ЭЦҚ қалай алуға болады</b>")


async def test_helpful_feedback_is_stored_and_the_buttons_go(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last_message(CITIZEN)
    tg.clear()

    query = await tg.press(AIGUL, "f:y:eds-obtain", answer)

    assert tg.answer_to(query)["text"] == ru("feedback_thanks")
    (edit,) = tg.sent(CITIZEN, "editMessageReplyMarkup")
    assert int(edit.params["message_id"]) == answer["message_id"] and "reply_markup" not in edit.params
    assert not tg.sent(CITIZEN)  # no offer to ask a librarian
    assert tg.sql("SELECT entry_id, helpful FROM feedback") == [("eds-obtain", 1)]


async def test_small_talk_is_answered_without_a_ticket(tg: TG) -> None:
    await tg.say(AIGUL, "Здравствуйте!")
    await tg.say(AIGUL, "спасибо")
    assert tg.texts(CITIZEN) == [ru("greeting_reply"), ru("thanks_reply")]
    assert not await tg.helpdesk.queue()


# --- 7. clarifying ----------------------------------------------------------------------------------


async def test_clarify_offers_options_and_an_option_answers(tg: TG) -> None:
    await tg.say(AIGUL, "справка")

    prompt = tg.last(CITIZEN)
    assert prompt.text == ru("clarify_prompt")
    options = prompt.buttons
    assert len(options) >= 3 and options[-1] == "c:-"
    assert all(o.startswith("c:") for o in options)
    ids = [o[2:] for o in options[:-1]]
    assert "criminal-record" in ids and all(tg.helpdesk.entry(i) for i in ids)
    assert labels(prompt.params["reply_markup"])[-1] == ru("clarify_none")
    tg.clear()

    query = await tg.press(AIGUL, "c:criminal-record", tg.last_message(CITIZEN))

    assert tg.answer_to(query).get("text") is None
    answer = tg.last(CITIZEN)
    assert answer.text.startswith(f"<b>{tg.helpdesk.entry('criminal-record').title['ru']}</b>")
    assert answer.buttons[:2] == ["f:y:criminal-record", "f:n:criminal-record"]
    assert not await tg.helpdesk.queue()


async def test_clarify_none_of_these_opens_a_declined_ticket_with_the_question(tg: TG) -> None:
    question = await tg.say(AIGUL, "справка")
    prompt = tg.last_message(CITIZEN)
    assert prompt["reply_to_message"]["message_id"] == question["message_id"]  # what Telegram gives back
    tg.clear()

    await tg.press(AIGUL, "c:-", prompt)

    (ticket,) = await tg.helpdesk.queue()
    assert (ticket.kind, ticket.question, ticket.lang) == ("declined", "справка", "ru")
    offered = [c.id for c in tg.helpdesk.knowledge.matcher.match("справка").candidates]
    assert [c["id"] for c in ticket.candidates] == offered and "address-certificate" in offered
    assert tg.last(CITIZEN).text.startswith(ru("escalated", number=ticket.id))
    card = tg.card(ticket.id)
    assert "Вопрос: справка" in card.text and "Не подошёл ни один вариант:" in card.text


# --- 9. steps ----------------------------------------------------------------------------------------


async def test_steps_go_forward_and_stuck_opens_a_ticket(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last_message(CITIZEN)
    assert answer["reply_markup"]["inline_keyboard"][1][0]["callback_data"] == "s:eds-obtain:1"
    entry = tg.helpdesk.entry("eds-obtain")
    total = len(entry.steps["ru"])
    tg.clear()

    await tg.press(AIGUL, "s:eds-obtain:1", answer)
    first = tg.last(CITIZEN)
    assert f"Шаг 1 из {total}:" in first.text and entry.steps["ru"][0][:30] in first.text
    assert first.buttons == ["s:eds-obtain:2", "x:eds-obtain:1"]
    step_message = tg.last_message(CITIZEN)

    await tg.press(AIGUL, "s:eds-obtain:2", step_message)
    second = tg.last(CITIZEN, "editMessageText")
    assert int(second.params["message_id"]) == step_message["message_id"]
    assert f"Шаг 2 из {total}:" in second.text
    assert second.buttons == ["s:eds-obtain:1", "s:eds-obtain:3", "x:eds-obtain:2"]
    assert not await tg.helpdesk.queue()

    await tg.press(AIGUL, "x:eds-obtain:2", step_message)

    (ticket,) = await tg.helpdesk.queue()
    assert (ticket.kind, ticket.step, ticket.entry_id) == ("stuck", 2, "eds-obtain")
    assert ticket.question == f"{entry.title['ru']}: {entry.steps['ru'][1]}"
    assert tg.last(CITIZEN).text.startswith(ru("escalated", number=ticket.id))
    assert f"Застрял на шаге 2 в «{entry.title['ru']}»" in tg.card(ticket.id).text


async def test_last_step_says_it_is_the_last(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    total = len(tg.helpdesk.entry("eds-obtain").steps["ru"])
    await tg.press(AIGUL, f"s:eds-obtain:{total}", tg.last_message(CITIZEN))

    last = tg.last(CITIZEN)
    assert last.text.endswith("\n\n" + escape(ru("steps_done")))
    assert last.buttons == [f"s:eds-obtain:{total - 1}", f"x:eds-obtain:{total}"]


# --- 10. media -----------------------------------------------------------------------------------------


async def test_media_goes_to_the_open_ticket(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    tg.clear()

    photo = tg.media(AIGUL, "photo", caption="вот скриншот")
    await tg.feed(photo)

    (copy,) = tg.sent(GROUP_ID, "copyMessage")
    assert int(copy.params["from_chat_id"]) == CITIZEN
    assert int(copy.params["message_id"]) == photo["message"]["message_id"]
    assert copy.params["caption"].startswith(f"#{ticket.id} · Айгуль прислал(а) фото")  # in the group's language
    assert "вот скриншот" in copy.params["caption"]
    assert copy.params["reply_parameters"]["message_id"] == card_id
    assert tg.texts(CITIZEN) == [ru("follow_up", number=ticket.id)]
    (message,) = await tg.store.tickets.messages(ticket.id)
    assert (message.direction, message.media, message.delivered) == ("citizen", "photo", True)
    assert message.group_message_id is not None


async def test_media_without_a_ticket_asks_for_words_and_creates_nothing(tg: TG) -> None:
    for kind in ("photo", "voice", "sticker", "document", "contact", "poll"):
        tg.clear()
        await tg.feed(tg.media(BOLAT, kind))
        expected = "contact_not_sent" if kind == "contact" else "media_without_ticket"
        assert tg.texts(BOLAT["id"]) == [ru(expected)], kind
        assert [c.method for c in tg.calls] == ["sendMessage"], kind

    assert tg.sql("SELECT count(*) FROM tickets") == [(0,)]
    assert tg.sql("SELECT count(*) FROM ticket_messages") == [(0,)]


async def test_a_contact_is_never_passed_to_librarians(tg: TG) -> None:
    await tg.escalate(AIGUL, "какая погода завтра в темиртау")
    tg.clear()
    await tg.feed(tg.media(AIGUL, "contact"))
    assert tg.texts(CITIZEN) == [ru("contact_not_sent")]
    assert not tg.sent(GROUP_ID, "copyMessage") and not tg.sent(GROUP_ID)


async def test_media_without_a_ticket_in_kazakh(tg: TG) -> None:
    await tg.feed(tg.media(ASEL, "voice"))
    assert tg.texts(ASEL["id"]) == [kk("media_without_ticket")]


# --- 11. /status and /cancel -------------------------------------------------------------------------------


async def test_status_lists_open_tickets(tg: TG) -> None:
    await tg.cmd(AIGUL, "/status")
    assert tg.last(CITIZEN).text == ru("status_none")

    ticket = await tg.escalate(AIGUL)
    await tg.cmd(AIGUL, "/status")
    assert tg.last(CITIZEN).text == "\n".join([
        ru("status_list"),
        ru("status_item", number=ticket.id, question="какая погода завтра в темиртау", state=ru("state_open"))])

    await tg.helpdesk.take(ticket.id, 701, "Мария Иванова")
    await tg.cmd(AIGUL, "/status")
    assert tg.last(CITIZEN).text.endswith(f"({ru('state_taken')})")


async def test_cancel_with_a_number_withdraws_and_updates_the_card(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    tg.clear()

    await tg.cmd(AIGUL, f"/cancel {ticket.id}")

    assert tg.texts(CITIZEN) == [ru("cancel_done", number=str(ticket.id))]
    assert (await tg.ticket(ticket.id)).status == "withdrawn"
    (edit,) = tg.card_edits(ticket.id, card_id)
    assert "Отменён жителем" in edit.text
    assert "reply_markup" not in edit.params  # no Take / Close on a withdrawn ticket

    await tg.cmd(AIGUL, f"/cancel {ticket.id}")
    assert tg.last(CITIZEN).text == ru("cancel_missing", number=str(ticket.id))


async def test_cancel_someone_elses_ticket_is_refused(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL)
    await tg.cmd(BOLAT, f"/cancel {ticket.id}")
    assert tg.last(BOLAT["id"]).text == ru("cancel_missing", number=str(ticket.id))
    assert (await tg.ticket(ticket.id)).status == "open"


async def test_cancel_without_a_number_offers_buttons(tg: TG) -> None:
    await tg.cmd(AIGUL, "/cancel")
    assert tg.last(CITIZEN).text == ru("status_none")

    ticket = await tg.escalate(AIGUL)
    await tg.cmd(AIGUL, "/cancel")
    offer = tg.last(CITIZEN)
    assert offer.text == ru("cancel_choose")
    assert offer.buttons == [f"w:{ticket.id}"]
    assert labels(offer.params["reply_markup"]) == [ru("button_cancel_ticket", number=ticket.id)]
    tg.clear()

    query = await tg.press(AIGUL, f"w:{ticket.id}", tg.last_message(CITIZEN))

    answer = tg.answer_to(query)
    assert answer["text"] == ru("cancel_done", number=str(ticket.id)) and answer["show_alert"] is True
    assert tg.sent(CITIZEN, "editMessageReplyMarkup")
    assert (await tg.ticket(ticket.id)).status == "withdrawn"
    assert "Отменён жителем" in tg.sent(GROUP_ID, "editMessageText")[-1].text


# --- 12. /where ------------------------------------------------------------------------------------------


async def test_where_a_town_lists_its_library(tg: TG) -> None:
    await tg.cmd(AIGUL, "/where Темиртау")

    reply = tg.last(CITIZEN)
    assert reply.params["parse_mode"] == "HTML"
    assert reply.text.startswith(ru("where_found"))
    assert "Центральная библиотека г. Темиртау" in reply.text
    assert ru("where_no_phone") in reply.text  # no phone known: where to check instead
    assert ru("where_unconfirmed") not in reply.text


async def test_where_in_kazakh(tg: TG) -> None:
    await tg.cmd(ASEL, "/where Теміртау")
    reply = tg.last(ASEL["id"])
    assert "Теміртау қаласының орталық кітапханасы" in reply.text
    assert kk("where_no_phone") in reply.text


async def test_where_without_a_town_asks_for_the_location(tg: TG) -> None:
    await tg.cmd(AIGUL, "/where")
    reply = tg.last(CITIZEN)
    assert reply.text == ru("where_prompt")
    button = reply.params["reply_markup"]["keyboard"][0][0]
    assert button["request_location"] is True


async def test_where_an_unknown_town(tg: TG) -> None:
    await tg.cmd(AIGUL, "/where Атлантида")
    assert tg.last(CITIZEN).text == ru("where_town_missing", town="Атлантида")


async def test_a_town_typed_after_where_gets_the_where_answer(tg: TG) -> None:
    await tg.cmd(AIGUL, "/where")
    await tg.say(AIGUL, "Темиртау")
    reply = tg.last(CITIZEN)
    assert reply.text.startswith(ru("where_found")) and "Центральная библиотека г. Темиртау" in reply.text
    assert await tg.store.tickets.queue() == []
    # Only the message right after the prompt is read as a town: the next one is a question again.
    await tg.say(AIGUL, "Темиртау")
    assert not tg.last(CITIZEN).text.startswith(ru("where_found"))


async def test_a_question_after_where_is_still_answered(tg: TG) -> None:
    await tg.cmd(AIGUL, "/where")
    await tg.say(AIGUL, "как получить эцп")
    assert "ЭЦП" in tg.last(CITIZEN).text and tg.last(CITIZEN).buttons[0].startswith("f:y:")


async def test_a_location_far_from_every_library_points_to_con_and_1414(tg: TG) -> None:
    await tg.feed(tg.location(AIGUL, 43.238, 76.889))  # Almaty: the known points are all in Karaganda region
    assert tg.last(CITIZEN).text == ru("where_far", km=100)


async def test_location_near_karaganda_lists_the_gogol_library_first(tg: TG) -> None:
    await tg.feed(tg.location(AIGUL, 49.806, 73.085))

    reply = tg.last(CITIZEN)
    blocks = reply.text.split("\n\n")
    assert blocks[0] == ru("where_nearest")
    assert 2 <= len(blocks) <= 4
    gogol = blocks[1]
    assert "им. Н.В. Гоголя" in gogol  # its address is unconfirmed (historical), so the file does not give it
    assert '<a href="https://karlib.kz">' in gogol
    for block in blocks[1:]:  # "check by phone" only where there is a phone; otherwise where to check
        has_phone = ru("where_phone", phone="") in block
        assert (ru("where_no_phone") in block) == (not has_phone)
        assert not (ru("where_unconfirmed") in block and not has_phone)
    assert "~" in gogol.splitlines()[1]  # the distance


# --- 16. unknown commands and stale buttons ------------------------------------------------------------------


async def test_unknown_command(tg: TG) -> None:
    await tg.cmd(AIGUL, "/foo")
    assert tg.texts(CITIZEN) == [ru("unknown_command")]
    await tg.cmd(ASEL, "/foo bar")
    assert tg.texts(ASEL["id"]) == [kk("unknown_command")]


async def test_stale_buttons_get_a_polite_answer_and_change_nothing(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last_message(CITIZEN)
    stale = ru("stale_button")
    for data in ("f:y:no-such-entry", "f:n:no-such-entry", "zzz", "s:no-such-entry:1", "s:eds-obtain:abc",
                 "x:no-such-entry:2", "r:abc:5", "r:1:5"):
        tg.clear()
        query = await tg.press(AIGUL, data, answer)
        assert [c.method for c in tg.calls] == ["answerCallbackQuery"], data
        assert tg.answer_to(query)["text"] == stale, data

    assert tg.sql("SELECT count(*) FROM feedback") == [(0,)]
    assert tg.sql("SELECT count(*) FROM tickets") == [(0,)]
    assert tg.request.message(CITIZEN, answer["message_id"])["reply_markup"] == answer["reply_markup"]


async def test_stale_menu_and_clarify_buttons(tg: TG) -> None:
    await tg.cmd(AIGUL, "/menu")
    menu = tg.last_message(CITIZEN)
    tg.clear()
    await tg.press(AIGUL, "m:e:no-such-entry", menu)
    assert tg.texts(CITIZEN) == [ru("stale_button")]
    await tg.press(AIGUL, "m:c:no-such-category", menu)
    await tg.press(AIGUL, "c:no-such-entry", menu)
    assert tg.texts(CITIZEN) == [ru("stale_button")] * 3
    assert not tg.sent(CITIZEN, "editMessageText")


async def test_withdraw_button_for_a_missing_ticket(tg: TG) -> None:
    await tg.cmd(AIGUL, "/help")
    query = await tg.press(AIGUL, "w:77", tg.last_message(CITIZEN))
    assert tg.answer_to(query)["text"] == ru("cancel_missing", number="77")


def test_every_reply_type_has_a_telegram_rendering(tg: TG) -> None:
    """One exhaustive match renders every HelpDesk reply for Telegram (a new type without a case fails here)."""
    import datetime as dt
    import typing

    from bot import helpdesk as hd
    from bot.matching import Decision
    from bot.telegram_ui import render
    from bot.domain import Ticket

    kb = tg.helpdesk.knowledge.kb
    entry = kb.entry("eds-obtain")
    decision = Decision("answer", "ru", (), "eds-obtain")
    ticket = Ticket(7, 1, "open", "unmatched", "ru", "q", None, None, [], dt.datetime(2026, 12, 1), None)
    samples = {
        hd.Answer: hd.Answer(entry, "ru", decision, "q", pending=7),
        hd.Clarify: hd.Clarify((entry, kb.entry("eds-renew")), "ru", decision, "q", pending=7),
        hd.Escalated: hd.Escalated(ticket, "ru"),
        hd.FollowUp: hd.FollowUp(ticket, "ru"),
        hd.SmallTalk: hd.SmallTalk("greeting", "kk"),
        hd.Rated: hd.Rated(7, 4, "ru"),
    }
    assert set(typing.get_args(hd.Reply)) == set(samples)
    for kind, reply in samples.items():
        for lang in locales.UI_LANGUAGES:
            shown = render.reply(reply, lang, tg.settings.hours)
            assert shown.html.strip() and "{" not in shown.html, (kind, lang)
    assert render.reply(samples[hd.Escalated], "ru", tg.settings.hours).delivers
    assert "/cancel 7" in render.reply(samples[hd.Answer], "ru", tg.settings.hours).html


def test_kazakh_time_phrases_are_grammatical() -> None:
    from bot.telegram_ui.render import time_with_suffix

    assert time_with_suffix("02.12 10:00", "kk") == "02.12 10:00-ден"
    assert time_with_suffix("02.12 09:30", "kk") == "02.12 09:30-дан"
    assert time_with_suffix("02.12 14:15", "kk") == "02.12 14:15-тен"
    assert time_with_suffix("02.12 18:40", "kk") == "02.12 18:40-тан"
    assert time_with_suffix("02.12 08:10", "kk") == "02.12 08:10-нан"
    assert time_with_suffix("02.12 10:00", "ru") == "02.12 10:00"
    text = locales.text("kk", "escalated_off_hours", number=3, hours="", opens=time_with_suffix("02.12 10:00", "kk"))
    assert "10:00-ден кейін" in text


async def test_a_photo_whose_caption_is_a_question_gets_the_caption_answered(tg: TG) -> None:
    await tg.feed(tg.media(AIGUL, "photo", caption="как получить эцп"))
    answer = tg.last(CITIZEN)
    assert answer.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]
    assert await tg.store.tickets.queue() == []
    await tg.feed(tg.media(AIGUL, "document"))  # no caption: a request to write in words
    assert tg.texts(CITIZEN)[-1] == ru("media_without_ticket")


async def test_librarians_group_names_media_in_its_language(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL)
    for kind, word in (("document", "документ"), ("voice", "голосовое сообщение")):
        await tg.feed(tg.media(AIGUL, kind))
        copy = tg.sent(GROUP_ID, "copyMessage")[-1]
        assert copy.params["caption"] == f"#{ticket.id} · Айгуль прислал(а) {word}"
