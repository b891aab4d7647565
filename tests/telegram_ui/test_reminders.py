"""Reminders and the out-of-hours digest in the librarians' group, as Telegram shows them (bot.reminders,
sent by the delivery job through the TelegramSender)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.config import LibrarianHours
from bot.reminders import Timers
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.jobs import delivery_job

from .harness import AIGUL, BOLAT, DANA, GROUP_ID, MARIA, TG, group

ALMATY = ZoneInfo("Asia/Almaty")
QUESTION = "какая погода завтра в темиртау"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def run_delivery(tg: TG) -> None:
    await delivery_job(BotContext(tg.app))


async def test_reminders_reply_to_the_card_and_name_the_librarian(make_tg) -> None:
    clock = Clock(dt.datetime.now(dt.timezone.utc))
    tg: TG = await make_tg(clock=clock, timers=Timers(take_minutes=30, reply_minutes=60, check_every=0))
    waiting = await tg.escalate(AIGUL, QUESTION)
    taken = await tg.escalate(BOLAT, "когда откроется каток в темиртау")
    await run_delivery(tg)
    card, taken_card = (await tg.ticket(waiting.id)).card_message_id, (await tg.ticket(taken.id)).card_message_id
    assert card and taken_card
    await tg.press(MARIA, f"t:{taken.id}", tg.message_with_button(GROUP_ID, f"t:{taken.id}"))
    tg.clear()
    clock.now += dt.timedelta(minutes=31)
    await run_delivery(tg)
    [reminder] = tg.sent(GROUP_ID)
    minutes = int(reminder.text.split("ждёт ")[1].split()[0])
    assert reminder.text == group("reminder_take", number=waiting.id, minutes=minutes, question=QUESTION)
    assert 30 <= minutes <= 31 and int(reminder.params["reply_parameters"]["message_id"]) == card
    tg.clear()
    clock.now += dt.timedelta(minutes=30)
    await run_delivery(tg)
    [nudge] = tg.sent(GROUP_ID)  # the take reminder is not repeated; the taken ticket's reply reminder is due
    assert int(nudge.params["reply_parameters"]["message_id"]) == taken_card
    assert f'<a href="tg://user?id={MARIA["id"]}">Мария Иванова</a>' in nudge.params["text"]
    assert nudge.text.startswith(f"⏰ #{taken.id}: <a ") and "вы взяли вопрос 60 мин рабочего времени назад" in nudge.text
    tg.clear()
    clock.now += dt.timedelta(hours=3)
    await run_delivery(tg)
    assert tg.sent(GROUP_ID) == []


async def test_the_digest_lists_the_night_s_tickets_once_when_the_hours_begin(make_tg, settings) -> None:
    hours = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty")
    clock = Clock(dt.datetime(2026, 12, 14, 8, 0, tzinfo=ALMATY))  # a Monday, before the opening
    tg: TG = await make_tg(hours=hours, clock=clock, timers=Timers(check_every=0))
    first = await tg.escalate(AIGUL, QUESTION)
    second = await tg.escalate(DANA, "когда откроется каток в темиртау")
    for number, moment in ((first.id, "2026-12-12 20:00:00.000000"), (second.id, "2026-12-13 22:30:00.000000")):
        tg.sql("UPDATE tickets SET created_at = ? WHERE id = ?", moment, number)  # Saturday and Sunday evenings (UTC)
    await run_delivery(tg)
    assert len([c for c in tg.sent(GROUP_ID) if c.text.startswith(f"#{first.id} ·")]) == 1  # cards come at once
    tg.clear()
    clock.now = dt.datetime(2026, 12, 14, 9, 0, 30, tzinfo=ALMATY)
    await run_delivery(tg)
    await run_delivery(tg)
    [digest] = tg.sent(GROUP_ID)
    assert digest.text.splitlines() == [
        group("digest_title", count=2),
        group("digest_item", number=first.id, when="13.12 01:00", question=QUESTION),
        group("digest_item", number=second.id, when="14.12 03:30", question="когда откроется каток в темиртау"),
    ]
