"""Notices of temporary changes in Telegram: under the bot's answer, the menu's entry and a librarian's chosen
entry, in the citizen's language, only while active; and listed by /help."""

from __future__ import annotations

import dataclasses
import datetime as dt
from html import escape

import pytest

from bot.knowledge import Notice
from bot.telegram_ui import callbacks, render

from .harness import AIGUL, ASEL, GROUP_ID, MARIA, TG, kk, ru

CITIZEN = AIGUL["id"]
NOW = dt.datetime(2030, 3, 1, 6, 0, tzinfo=dt.timezone.utc)  # 1 March 2030, 11:00 in Almaty
EDS = Notice("eds-test", {"ru": "Тестовое уведомление об ЭЦП.", "kk": "ЭЦҚ туралы сынақ хабарландыруы."},
             ("eds-obtain",), (), dt.date(2030, 3, 1), dt.date(2030, 3, 2))
DOCUMENTS = Notice("documents-test", {"ru": "Тестовое уведомление о справках.", "kk": "Анықтамалар туралы сынақ хабарландыруы."},
                   (), ("documents",), dt.date(2030, 2, 20), dt.date(2030, 3, 5))
LATER = Notice("later-test", {"ru": "Будущее уведомление.", "kk": "Болашақ хабарландыру."},
               ("eds-obtain",), ("eds",), dt.date(2030, 4, 1), dt.date(2030, 4, 2))


@pytest.fixture
async def tg(make_tg) -> TG:
    harness = await make_tg(clock=lambda: NOW)
    knowledge = harness.helpdesk.knowledge  # this harness's own: the notices stay in this test
    knowledge.kb = dataclasses.replace(knowledge.kb, notices=(EDS, DOCUMENTS, LATER))
    return harness


def notice_block(lang: str, *notices: Notice) -> str:
    return "\n".join([ru("notice_header") if lang == "ru" else kk("notice_header")] + [
        escape((ru if lang == "ru" else kk)("notice_item", text=n.text[lang], ends=n.ends.strftime("%d.%m.%Y")))
        for n in notices])


async def test_the_answer_shows_its_active_notice_under_it_in_russian_and_in_kazakh(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    answer = tg.last(CITIZEN)
    entry = tg.helpdesk.entry("eds-obtain")
    assert answer.text == render.entry_text(entry, "ru", (EDS,))
    assert answer.text.endswith("\n\n" + notice_block("ru", EDS))  # under the answer and its links
    assert "Будущее уведомление" not in answer.text  # not yet active
    assert answer.buttons[:2] == ["f:y:eds-obtain", "f:n:eds-obtain"]

    await tg.say(ASEL, "эцқ қалай алуға болады")
    assert tg.last(ASEL["id"]).text.endswith("\n\n" + notice_block("kk", EDS))


async def test_an_answer_no_notice_concerns_has_none(tg: TG) -> None:
    await tg.say(AIGUL, "как войти на egov.kz")
    answer = tg.last(CITIZEN)
    assert ru("notice_header") not in answer.text and answer.text.startswith("<b>")


async def test_no_notice_after_its_last_day(make_tg) -> None:
    harness = await make_tg(clock=lambda: dt.datetime(2030, 3, 2, 19, 30, tzinfo=dt.timezone.utc))  # 3 March in Almaty
    harness.helpdesk.knowledge.kb = dataclasses.replace(harness.helpdesk.knowledge.kb, notices=(EDS,))
    await harness.say(AIGUL, "как получить эцп")
    assert ru("notice_header") not in harness.last(CITIZEN).text


async def test_the_menus_entry_shows_its_notice(tg: TG) -> None:
    menu = await tg.cmd(AIGUL, "/menu")
    await tg.press(AIGUL, callbacks.data(callbacks.Menu("e", "eds-obtain")), tg.last_message(CITIZEN) or menu)
    shown = tg.last(CITIZEN)
    assert shown.text == render.entry_text(tg.helpdesk.entry("eds-obtain"), "ru", (EDS,))
    assert notice_block("ru", EDS) in shown.text


async def test_an_entry_a_librarian_chose_carries_its_notice(tg: TG) -> None:
    ticket = await tg.escalate(AIGUL, "на работу требуют бумагу что меня не судили, где ее взять")
    card_message = tg.last_message(GROUP_ID)
    assert "ae:1:criminal-record" in tg.card(ticket.id).buttons
    tg.clear()
    await tg.press(MARIA, "ae:1:criminal-record", card_message)
    (sent,) = tg.sent(CITIZEN)
    entry = tg.helpdesk.entry("criminal-record")
    assert sent.text == render.clip(ru("librarian_chose_entry", number=1) + "\n\n"
                                    + render.entry_text(entry, "ru", (DOCUMENTS,)))
    assert sent.text.endswith(notice_block("ru", DOCUMENTS))


async def test_help_lists_the_active_notices(tg: TG) -> None:
    await tg.cmd(AIGUL, "/help")
    text = tg.last(CITIZEN).text
    assert text.startswith(ru("help") + "\n\n" + ru("help_notices"))
    assert ru("help_notice_item", text=EDS.text["ru"], starts="01.03.2030", ends="02.03.2030") in text
    assert ru("help_notice_item", text=DOCUMENTS.text["ru"], starts="20.02.2030", ends="05.03.2030") in text
    assert "Будущее уведомление" not in text

    await tg.cmd(ASEL, "/help")
    assert kk("help_notice_item", text=EDS.text["kk"], starts="01.03.2030", ends="02.03.2030") in tg.last(ASEL["id"]).text


async def test_help_without_active_notices_is_the_plain_help(make_tg) -> None:
    harness = await make_tg(clock=lambda: NOW)
    harness.helpdesk.knowledge.kb = dataclasses.replace(harness.helpdesk.knowledge.kb, notices=(LATER,))
    await harness.cmd(AIGUL, "/help")
    assert harness.last(CITIZEN).text == ru("help")
