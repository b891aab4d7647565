"""Reminders and the out-of-hours digest (bot.reminders): due in working minutes, sent once by the delivery pass,
across restarts and two instances (SQLite and PostgreSQL), with a clock the tests control."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.config import LibrarianHours
from bot.delivery import Unreachable
from bot.domain import Channel, Digest, Reminder, ReminderKind, utcnow
from bot.helpdesk import HelpDesk
from bot.reminders import Timers
from bot.storage import Storage
from bot.storage.schema import TicketRow

from storage.helpers import StatementCounter

ALMATY = ZoneInfo("Asia/Almaty")
WEEKDAYS = LibrarianHours.parse("Mon-Fri 09:00-18:00", "Asia/Almaty")
TIMERS = Timers(take_minutes=30, reply_minutes=60, check_every=0)


def almaty(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of December 2026 in Almaty (11 December is a Friday, 16 December Independence Day)."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=ALMATY)


class Clock:
    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class GroupSender:
    """bot.delivery.Sender recording what reaches the librarians' group."""

    channel = "telegram"

    def __init__(self) -> None:
        self.next_id = 1000
        self.cards: list[int] = []
        self.reminders: list[Reminder] = []
        self.digests: list[Digest] = []
        self.failures: list[Exception] = []

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def send_card(self, card) -> int:
        self.cards.append(card.ticket.id)
        return self._id()

    async def send_card_rest(self, ticket, card_id) -> list[int]:
        return []

    async def edit_card(self, card, card_id) -> None:
        pass

    async def send_to_citizen(self, citizen, ticket, message) -> None:
        pass

    async def send_to_group(self, ticket, message, citizen_name, card_id) -> list[int]:
        return [self._id()]

    async def send_notice(self, citizen, ticket) -> None:
        pass

    async def send_note(self, text: str) -> None:
        pass

    async def send_reminder(self, reminder: Reminder) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.reminders.append(reminder)
        return self._id()

    async def send_digest(self, digest: Digest) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.digests.append(digest)
        return self._id()

    def sent(self) -> list[tuple[str, int]]:
        return [(str(r.kind), r.ticket.id) for r in self.reminders]


def desk(knowledge, store: Storage, clock: Clock, *, hours=None, timers: Timers = TIMERS) -> HelpDesk:
    return HelpDesk(knowledge, store, hours=hours, timers=timers, clock=clock)


async def ticket(helpdesk: HelpDesk, who: str, question: str = "курс доллара сегодня", at: dt.datetime | None = None):
    citizen = await helpdesk.citizen(Channel.TELEGRAM, who, first_name=who)
    opened = (await helpdesk.escalate(citizen, question, "ru")).ticket
    if at is not None:  # the ticket arrived then
        async with helpdesk.store.database.sessions.begin() as session:
            moment = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
            await session.execute(update(TicketRow).where(TicketRow.id == opened.id).values(created_at=moment))
    return opened


async def test_a_ticket_nobody_took_gets_one_reminder_quoting_its_card(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock)
    sender = GroupSender()
    first = await ticket(helpdesk, "1", "как оформить пособие на собаку")
    await helpdesk.deliver(sender)
    assert sender.cards == [first.id] and sender.reminders == []
    clock.advance(minutes=29)
    await helpdesk.deliver(sender)
    assert sender.reminders == []
    clock.advance(minutes=2)
    await helpdesk.deliver(sender)
    [reminder] = sender.reminders
    assert (reminder.kind, reminder.ticket.id) == (ReminderKind.TAKE, first.id)
    assert reminder.minutes in (30, 31)  # working minutes it waited (the clock was read just before the ticket)
    assert reminder.ticket.card_message_id == 1001 and reminder.ticket.question == "как оформить пособие на собаку"
    for _ in range(3):
        clock.advance(minutes=30)
        await helpdesk.deliver(sender)
    assert len(sender.reminders) == 1  # one reminder per ticket, however long it waits


async def test_the_take_reminder_counts_only_working_minutes(store, knowledge) -> None:
    clock = Clock(almaty(11, 17, 55))
    helpdesk = desk(knowledge, store, clock, hours=WEEKDAYS)
    sender = GroupSender()
    friday = await ticket(helpdesk, "1", at=almaty(11, 17, 50))  # 10 minutes before the weekend
    await helpdesk.deliver(sender)
    for moment in (almaty(11, 23), almaty(12, 12), almaty(14, 9, 19)):  # night, Saturday, Monday 09:19
        clock.set(moment)
        await helpdesk.deliver(sender)
    assert sender.reminders == []
    clock.set(almaty(14, 9, 21))
    await helpdesk.deliver(sender)
    assert [(r.ticket.id, r.minutes) for r in sender.reminders] == [(friday.id, 31)]
    assert sender.digests == []  # it came in working hours: no digest


async def test_a_taken_ticket_without_a_reply_reminds_the_librarian_who_took_it(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock)
    sender = GroupSender()
    taken, answered = await ticket(helpdesk, "1"), await ticket(helpdesk, "2", "погода в караганде")
    await helpdesk.deliver(sender)
    await helpdesk.take(taken.id, 7001, "Гульнар")
    await helpdesk.take(answered.id, 7002, "Айгерим")
    card = (await helpdesk.store.tickets.get(answered.id)).card_message_id
    await helpdesk.reply(card, "Посмотрите на сайте Казгидромета.", "Айгерим", 5000)
    clock.advance(minutes=59)
    await helpdesk.deliver(sender)
    assert sender.reminders == []  # neither is free for the take reminder; the reply reminder is not due
    clock.advance(minutes=2)
    await helpdesk.deliver(sender)
    [reminder] = sender.reminders
    assert (reminder.kind, reminder.ticket.id, reminder.ticket.taken_by, reminder.librarian_id) == \
        (ReminderKind.REPLY, taken.id, "Гульнар", 7001)
    clock.advance(hours=5)
    await helpdesk.deliver(sender)
    assert len(sender.reminders) == 1


async def test_zero_minutes_turn_the_reminders_off(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock, timers=Timers(take_minutes=0, reply_minutes=0, digest=False, check_every=0))
    sender = GroupSender()
    await ticket(helpdesk, "1")
    await helpdesk.deliver(sender)
    counter = StatementCounter(store)
    clock.advance(days=3)
    await helpdesk.reminders.deliver(sender)
    assert sender.reminders == [] and counter.statements == []  # off: not even a query


async def test_a_pass_is_one_indexed_query_when_nothing_is_due(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock)
    sender = GroupSender()
    for n in range(5):
        await ticket(helpdesk, str(n), f"вопрос номер {n} про курс валют")
    await helpdesk.deliver(sender)
    counter = StatementCounter(store)
    clock.advance(minutes=10)
    assert await helpdesk.reminders.deliver(sender) == 0
    assert [s.split()[0] for s in counter.statements] == ["SELECT"]
    assert "FROM tickets LEFT OUTER JOIN reminders" in counter.statements[0]


async def test_passes_closer_than_check_every_do_not_look_again(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock, timers=Timers(check_every=60))
    sender = GroupSender()
    await ticket(helpdesk, "1")
    await helpdesk.deliver(sender)
    counter = StatementCounter(store)
    clock.advance(minutes=40)
    assert await helpdesk.reminders.deliver(sender) == 0 and counter.statements == []
    assert await helpdesk.reminders.deliver(sender, force=True) == 1


async def test_a_reminder_that_fails_is_sent_later_once(store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, store, clock)
    sender = GroupSender()
    await ticket(helpdesk, "1")
    await helpdesk.deliver(sender)
    clock.advance(minutes=31)
    sender.failures.append(Unreachable("NetworkError"))
    await helpdesk.deliver(sender)
    assert sender.reminders == []
    await helpdesk.deliver(sender)  # retried after its backoff, not at once
    assert sender.reminders == []
    clock.advance(seconds=3)
    await helpdesk.deliver(sender)
    clock.advance(seconds=3)
    await helpdesk.deliver(sender)
    assert len(sender.reminders) == 1


# --- the out-of-hours digest ---------------------------------------------------------------------------------


async def test_tickets_of_the_night_and_the_holiday_are_listed_once_when_the_hours_begin(store, knowledge) -> None:
    clock = Clock(almaty(17, 8, 0))
    helpdesk = desk(knowledge, store, clock, hours=WEEKDAYS)
    sender = GroupSender()
    in_hours = await ticket(helpdesk, "1", "вопрос днём про курс валют", at=almaty(15, 12))
    holiday = await ticket(helpdesk, "2", "вопрос в праздник про курс валют", at=almaty(16, 11))  # Independence Day
    night = await ticket(helpdesk, "3", "вопрос ночью про курс валют", at=almaty(17, 3))
    taken = await ticket(helpdesk, "4", "ещё вопрос ночью про погоду", at=almaty(17, 4))
    await helpdesk.take(taken.id, 7001, "Гульнар")
    await helpdesk.deliver(sender)
    assert sorted(sender.cards) == [in_hours.id, holiday.id, night.id, taken.id]  # cards are posted at once
    assert sender.digests == []  # before the hours begin
    clock.set(almaty(17, 9, 0, ) + dt.timedelta(seconds=20))
    await helpdesk.deliver(sender)
    [digest] = sender.digests
    assert [t.id for t in digest.tickets] == [holiday.id, night.id]  # oldest first; taken and daytime ones left out
    assert digest.opens_at == almaty(17, 9)
    other = desk(knowledge, Storage.from_url(str(store.database.engine.url)), clock, hours=WEEKDAYS)
    try:  # another instance, and later passes: the digest was sent
        clock.advance(minutes=5)
        await other.deliver(sender)
        await helpdesk.deliver(sender)
    finally:
        await other.store.dispose()
    assert len(sender.digests) == 1


async def test_a_digest_cut_short_is_sent_after_the_restart(store, knowledge) -> None:
    clock = Clock(almaty(14, 9, 1))
    helpdesk = desk(knowledge, store, clock, hours=WEEKDAYS)
    sender = GroupSender()
    first = await ticket(helpdesk, "1", at=almaty(12, 10))
    await helpdesk.store.outbox.card_posted(first.id, 900)
    sender.failures.append(Unreachable("NetworkError"))
    await helpdesk.deliver(sender)
    assert sender.digests == []
    restarted = desk(knowledge, store, clock, hours=WEEKDAYS)
    clock.advance(seconds=5)
    await restarted.deliver(sender)
    await restarted.deliver(sender)
    assert [[t.id for t in d.tickets] for d in sender.digests] == [[first.id]]


# --- restarts and two instances -------------------------------------------------------------------------------


async def test_a_reminder_due_while_the_bot_was_down_is_sent_after_the_start_once(any_store, knowledge) -> None:
    clock = Clock()
    before = desk(knowledge, any_store, clock)
    sender = GroupSender()
    waiting = await ticket(before, "1")
    await before.deliver(sender)
    clock.advance(hours=2)  # the bot is down meanwhile
    after = desk(knowledge, any_store, clock)
    await after.deliver(sender)
    await after.deliver(sender)
    assert sender.sent() == [("take", waiting.id)]


async def test_a_reminder_claimed_by_a_killed_instance_is_sent_once_after_its_lease(any_store, knowledge) -> None:
    clock = Clock()
    helpdesk = desk(knowledge, any_store, clock)
    sender = GroupSender()
    waiting = await ticket(helpdesk, "1")
    await helpdesk.deliver(sender)
    clock.advance(minutes=31)
    now = clock().astimezone(dt.timezone.utc).replace(tzinfo=None)
    # An instance claimed it and was killed before it sent it.
    assert await any_store.reminders.claim(f"take:{waiting.id}", ReminderKind.TAKE, waiting.id, now=now) is not None
    await helpdesk.deliver(sender)
    assert sender.reminders == []  # its lease still runs
    clock.advance(seconds=61)
    for _ in range(3):
        await helpdesk.deliver(sender)
    assert sender.sent() == [("take", waiting.id)]


async def test_two_instances_never_send_the_same_reminder_or_digest_twice(any_store, knowledge) -> None:
    clock = Clock(almaty(14, 8, 30))
    other_store = Storage.from_url(any_store.url)
    one = desk(knowledge, any_store, clock, hours=WEEKDAYS)
    two = desk(knowledge, other_store, clock, hours=WEEKDAYS)
    sender_one, sender_two = GroupSender(), GroupSender()
    try:
        tickets = [await ticket(one, str(n), f"ночной вопрос {n} про курс валют", at=almaty(13, 20, n))
                   for n in range(6)]
        await one.deliver(sender_one)
        clock.set(almaty(14, 9, 0) + dt.timedelta(seconds=1))  # the digest is due
        for _ in range(3):
            await asyncio.gather(one.deliver(sender_one), two.deliver(sender_two))
        digests = sender_one.digests + sender_two.digests
        assert len(digests) == 1 and [t.id for t in digests[0].tickets] == [t.id for t in tickets]
        clock.set(almaty(14, 9, 31))  # and the take reminders
        for _ in range(3):
            await asyncio.gather(one.deliver(sender_one), two.deliver(sender_two))
        sent = sender_one.sent() + sender_two.sent()
        assert sorted(sent) == sorted(("take", t.id) for t in tickets)
    finally:
        await other_store.dispose()


async def test_the_reminder_rows_say_what_was_sent(store, knowledge, db_path) -> None:
    from storage.helpers import sql

    clock = Clock()
    helpdesk = desk(knowledge, store, clock)
    sender = GroupSender()
    waiting = await ticket(helpdesk, "1")
    await helpdesk.deliver(sender)
    clock.advance(minutes=45)
    await helpdesk.deliver(sender)
    rows = sql(db_path, "SELECT key, kind, ticket_id, done, message_id, sent_at IS NOT NULL FROM reminders")
    assert rows == [(f"take:{waiting.id}", "take", waiting.id, 1, 1002, 1)]
    assert utcnow() is not None
