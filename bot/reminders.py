"""Reminders and the out-of-hours digest: a pass of delivery, through the same Sender as the cards.

- A ticket nobody took (or answered) for TAKE_REMINDER_MINUTES working minutes gets one reminder in the group,
  as a reply to its card; a taken ticket without a librarian's reply for REPLY_REMINDER_MINUTES gets one that
  names the librarian who took it.
- The tickets that arrived outside working hours are listed, oldest first, in one digest when the hours begin.

Each is claimed in the database before it is sent (bot.storage.reminders): two instances never send the same
one, and one cut short by a kill is sent after the restart. A pass costs one query (the open tickets with their
reminders), run at most every `check_every` seconds; only what is due costs more.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Callable

from bot.delivery import MAX_ATTEMPTS, RetryLater, Sender, backoff
from bot.domain import Digest, Reminder, ReminderKind, ReminderState, TicketStatus, Waiting
from bot.storage import Storage
from bot.workhours import UTC, WorkingTime, aware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timers:
    """TAKE_REMINDER_MINUTES and REPLY_REMINDER_MINUTES (working minutes; 0 turns one off), and the digest."""

    take_minutes: float = 30.0
    reply_minutes: float = 60.0
    digest: bool = True
    check_every: float = 3.0  # seconds between two looks at the queue (each look is one query)

    @classmethod
    def off(cls) -> "Timers":
        return cls(0, 0, False)

    @property
    def active(self) -> bool:
        return self.take_minutes > 0 or self.reply_minutes > 0 or self.digest


def _claimable(state: ReminderState | None, now: dt.datetime) -> bool:
    return state is None or (not state.done and (state.lease_until is None or state.lease_until < now))


class ReminderPass:
    def __init__(self, store: Storage, timers: Timers, calendar: Callable[[], WorkingTime],
                 clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.timers = timers
        self._calendar = calendar
        self._clock = clock
        self._last_look: float | None = None

    def due(self, item: Waiting, calendar: WorkingTime, now: dt.datetime) -> list[Reminder]:
        """The reminders this ticket is due for now (none already sent, none another instance is sending)."""
        ticket, found = item.ticket, []
        if ticket.first_reply_at is not None:
            return found
        if (self.timers.take_minutes > 0 and ticket.status == TicketStatus.OPEN
                and _claimable(item.reminders.get(ReminderKind.TAKE), now)):
            minutes = calendar.minutes_between(ticket.created_at, now)
            if minutes >= self.timers.take_minutes:
                found.append(Reminder(ReminderKind.TAKE, ticket, int(minutes)))
        if (self.timers.reply_minutes > 0 and ticket.status == TicketStatus.TAKEN and ticket.taken_at is not None
                and _claimable(item.reminders.get(ReminderKind.REPLY), now)):
            minutes = calendar.minutes_between(ticket.taken_at, now)
            if minutes >= self.timers.reply_minutes:
                found.append(Reminder(ReminderKind.REPLY, ticket, int(minutes), item.librarian_id))
        return found

    async def deliver(self, sender: Sender, *, force: bool = False) -> int:
        """One reminder pass; how many reminders and digests were sent. Skipped when the last look was less
        than `check_every` seconds ago (unless forced)."""
        if not self.timers.active:
            return 0
        started = time.monotonic()
        if not force and self._last_look is not None and started - self._last_look < self.timers.check_every:
            return 0
        self._last_look = started
        now = aware(self._clock()).astimezone(UTC).replace(tzinfo=None)
        calendar = self._calendar()
        waiting = await self.store.reminders.waiting()
        sent = await self._digest(sender, waiting, calendar, now) if self.timers.digest else 0
        for item in waiting:
            for reminder in self.due(item, calendar, now):
                sent += await self._remind(sender, reminder, now)
        return sent

    async def _remind(self, sender: Sender, reminder: Reminder, now: dt.datetime) -> int:
        key = f"{reminder.kind}:{reminder.ticket.id}"
        state = await self.store.reminders.claim(key, reminder.kind, reminder.ticket.id, now=now)
        if state is None:
            return 0  # another instance has it
        try:
            message_id = await sender.send_reminder(reminder)
        except Exception as error:  # noqa: BLE001 - retried later, like any delivery; the others go on
            await self._failed(key, state, error, now)
            return 0
        await self.store.reminders.sent(key, message_id, now=now)
        return 1

    async def _digest(self, sender: Sender, waiting: list[Waiting], calendar: WorkingTime, now: dt.datetime) -> int:
        """At the start of working time: one digest of the open tickets that arrived outside it."""
        window = calendar.window_of(now) if calendar.hours is not None else None
        if window is None:
            return 0
        sent = 0
        unfinished = {state.batch for item in waiting if (state := item.reminders.get(ReminderKind.DIGEST))
                      and not state.done and state.batch}
        for key in sorted(unfinished):  # a digest whose sending was cut short (a kill, a network fault)
            state = await self.store.reminders.claim(key, ReminderKind.DIGEST, None, now=now)
            if state is not None:
                sent += await self._send_digest(sender, key, state, window[0], now)
        new = [item.ticket.id for item in waiting if ReminderKind.DIGEST not in item.reminders
               and item.ticket.status == TicketStatus.OPEN and not calendar.is_working(item.ticket.created_at)]
        if new:
            key = f"{ReminderKind.DIGEST}@{window[0].isoformat(timespec='minutes')}"
            if await self.store.reminders.compose_digest(key, new, now=now):
                state = ReminderState(key, ReminderKind.DIGEST, False, None)
                sent += await self._send_digest(sender, key, state, window[0], now)
        return sent

    async def _send_digest(self, sender: Sender, key: str, state: ReminderState, opens_at: dt.datetime,
                           now: dt.datetime) -> int:
        tickets = await self.store.reminders.digest_tickets(key)
        if not tickets:  # all of them taken or closed meanwhile: nothing to list
            await self.store.reminders.sent(key, None, now=now)
            return 0
        try:
            message_id = await sender.send_digest(Digest(tuple(tickets), opens_at))
        except Exception as error:  # noqa: BLE001 - retried later
            await self._failed(key, state, error, now)
            return 0
        await self.store.reminders.sent(key, message_id, now=now)
        return 1

    async def _failed(self, key: str, state: ReminderState, error: Exception, now: dt.datetime) -> None:
        log.warning("%s not sent (attempt %s): %r", key, state.attempts + 1, error)
        if state.attempts + 1 >= MAX_ATTEMPTS:
            await self.store.reminders.give_up(key)
        else:
            delay = error.after if isinstance(error, RetryLater) else backoff(state.attempts)
            await self.store.reminders.retry_later(key, delay, now=now)
