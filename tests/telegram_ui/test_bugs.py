"""Regression tests for bugs the handler tests found (each failed before its fix)."""

from __future__ import annotations

import pytest

from bot import locales

from .harness import AIGUL, ASEL, ERZHAN, GROUP_ID, MARIA, TG, ru

CITIZEN = AIGUL["id"]
QUESTION = "какая погода завтра в темиртау"


async def test_not_helpful_ticket_carries_the_citizens_question(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    await tg.press(AIGUL, "f:n:eds-obtain", tg.last_message(CITIZEN))
    await tg.press(AIGUL, "a:eds-obtain", tg.last_message(CITIZEN))

    (ticket,) = await tg.helpdesk.queue()
    entry = tg.helpdesk.entry("eds-obtain")
    assert ticket.question in ("как получить эцп", entry.title["ru"]), ticket.question[:120]
    assert "электронная замена вашей подписи" not in tg.card(ticket.id).text


async def test_cancel_with_a_huge_number(tg: TG) -> None:
    await tg.cmd(AIGUL, "/cancel 99999999999999999999")
    assert tg.texts(CITIZEN) == [ru("cancel_missing", number="99999999999999999999")]


async def test_card_names_who_closed_the_ticket(tg: TG) -> None:
    await tg.escalate(AIGUL, QUESTION)
    card = tg.last_message(GROUP_ID)
    await tg.press(MARIA, "t:1", card)

    await tg.press(ERZHAN, "z:1", card)

    assert "Закрыт: Ержан Сапаров" in tg.card_edits(1, card["message_id"])[-1].text


async def test_error_text_in_the_citizens_language(tg: TG, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tg.helpdesk, "ask", broken)
    await tg.feed(tg.private_text(ASEL, "эцқ қалай алуға болады"), allow_errors=True)

    assert tg.texts(ASEL["id"]) == [locales.text("kk", "error_try_again")]


async def test_librarian_sticker_reply_reaches_the_citizen(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card_id = (await tg.ticket(ticket.id)).card_message_id
    tg.clear()
    sticker = {"file_id": "st", "file_unique_id": "st", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}

    await tg.librarian_reply(MARIA, "", card_id, sticker=sticker)

    assert tg.sent(CITIZEN, "copyMessage"), "the sticker was not copied"
    assert ru("librarian_answer", number=1, text="") not in tg.texts(CITIZEN)


# --- double taps: Telegram sends both callbacks with the message as it was before the first edit --------------


async def _double_tap(tg: TG, data: str, message: dict) -> None:
    snapshot = tg.request.message(message["chat"]["id"], message["message_id"])
    await tg.feed(tg.callback(AIGUL, data, snapshot))
    await tg.feed(tg.callback(AIGUL, data, snapshot), allow_errors=True)


DOUBLE_TAP = ("bug: bot/telegram_ui/citizen.py:{line}: the second of two quick taps edits a message the first tap "
              "already edited; Telegram answers 400 'message is not modified', which is not caught: the group gets "
              "'⚠️ Ошибка бота: BadRequest' and the citizen 'что-то пошло не так'")


@pytest.mark.parametrize("data, setup", [
    pytest.param("f:y:eds-obtain", "answer"),
    pytest.param("f:n:eds-obtain", "answer"),
    pytest.param("s:eds-obtain:2", "step"),
    pytest.param("r:1:5", "rating"),
    pytest.param("w:1", "cancel"),  # the second tap finds nothing to withdraw and edits nothing
])
async def test_double_tap_is_harmless(tg: TG, data: str, setup: str) -> None:
    if setup in ("answer", "step"):
        await tg.say(AIGUL, "как получить эцп")
        if setup == "step":
            await tg.press(AIGUL, "s:eds-obtain:1", tg.last_message(CITIZEN))
    else:
        await tg.escalate(AIGUL, QUESTION)
        if setup == "rating":
            await tg.cmd(MARIA, "/close 1", GROUP_ID)
        else:
            await tg.cmd(AIGUL, "/cancel")
    message = tg.message_with_button(CITIZEN, data if setup != "step" else "x:eds-obtain:1")
    tg.clear()

    await _double_tap(tg, data, message)

    assert not tg.errors, repr(tg.errors)
    assert not [t for t in tg.texts(GROUP_ID) if t.startswith("⚠️")]
    assert ru("error_try_again") not in tg.texts(CITIZEN)


async def test_double_tap_on_ask_a_librarian_opens_one_ticket(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    await tg.press(AIGUL, "f:n:eds-obtain", tg.last_message(CITIZEN))
    offer = tg.message_with_button(CITIZEN, "a:eds-obtain")

    await _double_tap(tg, "a:eds-obtain", offer)

    assert len(await tg.helpdesk.queue()) == 1
    assert not tg.errors, repr(tg.errors)
