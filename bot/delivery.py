"""Delivery: cards to the librarians' group, messages both ways, notices to citizens, over any front end.

Everything to deliver is in the database first; a pass sends it through a front end's Sender and marks it
delivered. What the front end reports as "wait" or "unreachable" is retried on the pass's own schedule, with
backoff, and given up after MAX_ATTEMPTS with a note in the librarians' group; a citizen who blocked the bot
marks their tickets, and the librarians are told. Nothing a librarian writes is lost, and one bad item never
keeps the others from being delivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from bot import locales
from bot.knowledge import Entry, KnowledgeBase, Notice
from bot.domain import Citizen, Digest, Reminder, Ticket, TicketMessage
from bot.storage import Storage

log = logging.getLogger(__name__)
MAX_BACKOFF = 300.0
MAX_ATTEMPTS = 8  # deliveries of one message before it is given up (with a note in the librarians' group)


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 10))


# --- what a front end reports ------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A front end could not send something. `reason` names the fault for the librarians' note."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class RetryLater(DeliveryError):
    """Asked to wait (a rate limit): try this item again after `after` seconds."""

    def __init__(self, reason: str, after: float, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.after = after


class Unreachable(DeliveryError):
    """The network or the service is down: nothing gets through now."""


class Refused(DeliveryError):
    """This request will never be accepted as it is (its original was deleted, a bad chat, ...)."""


class Blocked(DeliveryError):
    """The recipient blocked the bot."""


def reason(error: Exception) -> str:
    return error.reason if isinstance(error, DeliveryError) else type(error).__name__


@dataclass(frozen=True)
class Card:
    """A ticket's card in the librarians' group, as it is to be shown now."""

    ticket: Ticket
    citizen_name: str
    kb: KnowledgeBase  # the titles of the entries the ticket names
    answered: tuple[str, dt.datetime] | None = None  # (librarian, when) of the last answer
    suggestions: tuple[Entry, ...] = ()  # entries that fit the question: one button each, to answer with
    answered_with: Entry | None = None   # the entry the last answer was made of


class Sender(Protocol):
    """What a front end does for a delivery pass. Each method raises a DeliveryError (or anything else, for a
    fault of its own) when it fails."""

    channel: str  # the citizens it reaches ("telegram"): a pass hands it only their answers and notices

    async def send_card(self, card: Card) -> int:
        """Post a new card in the librarians' group; its message id there."""

    async def send_card_rest(self, ticket: Ticket, card_id: int) -> list[int]:
        """What did not fit on the card (a long question), under it; the ids posted. Never raises."""

    async def edit_card(self, card: Card, card_id: int) -> None:
        """Redraw a card (nothing changed is no fault)."""

    async def send_to_citizen(self, citizen: Citizen, ticket: Ticket, message: TicketMessage) -> None:
        """A librarian's answer (text, or a copy of their attachment) to the citizen."""

    async def send_entry_to_citizen(self, citizen: Citizen, ticket: Ticket, message: TicketMessage,
                                    entry: Entry, notices: tuple[Notice, ...] = ()) -> None:
        """A librarian's answer with a knowledge-base entry: the entry as the bot itself shows it, with the
        notices active under it."""

    async def send_to_group(self, ticket: Ticket, message: TicketMessage, citizen_name: str,
                            card_id: int | None) -> list[int]:
        """A citizen's message (text or attachment) in the group under the card; its message ids there."""

    async def send_notice(self, citizen: Citizen, ticket: Ticket) -> None:
        """Tell the citizen their ticket was closed, and ask for a rating."""

    async def send_note(self, text: str) -> None:
        """A note for the librarians' group."""

    async def send_reminder(self, reminder: Reminder) -> int:
        """A reminder in the group, as a reply to the ticket's card (bot.reminders); its message id."""

    async def send_digest(self, digest: Digest) -> int:
        """The tickets that arrived outside working hours, in one message (bot.reminders); its message id."""


# --- the passes --------------------------------------------------------------------------------------------


class Outbox:
    """The delivery passes over the ticket store."""

    def __init__(self, store: Storage, knowledge: Callable[[], KnowledgeBase], *,
                 suggest: Callable[[Ticket], tuple[Entry, ...]] = lambda ticket: (),
                 notices: Callable[[Entry], tuple[Notice, ...]] = lambda entry: ()) -> None:
        self.store = store
        self._knowledge = knowledge
        self._suggest = suggest  # the entries to offer on a ticket's card, computed when it is drawn
        self._notices = notices  # the notices active under an entry's answer, when it is sent

    async def _card(self, ticket: Ticket, answered: tuple[str, dt.datetime] | None = None,
                    answered_with: str | None = None) -> Card:
        citizen = await self.store.citizens.by_id(ticket.citizen_id)
        kb = self._knowledge()
        return Card(ticket, citizen.first_name if citizen else "", kb, answered, self._suggest(ticket),
                    kb.entry(answered_with) if answered_with else None)

    async def deliver(self, sender: Sender) -> int:
        """Cards, then messages both ways, then notices; how many deliveries succeeded. Each item is on its
        own: one that fails is logged with its id and retried with backoff (given up after MAX_ATTEMPTS, with
        a note in the group), and never keeps the others from being delivered in the same pass."""
        done, reachable = await self._post_cards(sender)
        if not reachable:
            return done  # the group is unreachable now: try everything again on the next pass
        answered: dict[int, tuple] = {}  # cards to redraw once the citizens have their answers
        for message in await self.store.outbox.pending_messages(channel=sender.channel):
            done += await self._deliver_message(sender, message, answered)
        for ticket, last, entry_id in answered.values():  # the group's rate limit may slow these: citizens first
            await self._refresh_card(sender, ticket, answered=last, answered_with=entry_id)
        await self._send_notices(sender)
        return done

    async def _post_cards(self, sender: Sender) -> tuple[int, bool]:
        """New tickets' cards; how many were posted, and False when the group could not be reached."""
        done = 0
        for ticket in await self.store.outbox.cards_to_post():
            if not await self.store.outbox.claim_card(ticket.id):
                continue  # another instance is posting it
            try:
                card_id = await sender.send_card(await self._card(ticket))
                await self.store.outbox.card_posted(ticket.id, card_id)
                await self.store.outbox.add_group_messages(ticket.id, await sender.send_card_rest(ticket, card_id), is_card=True)
                done += 1
            except (RetryLater, Unreachable, Refused) as error:
                log.warning("card for ticket #%s not posted yet: %s", ticket.id, error)
                await self.store.outbox.release_card(ticket.id)
                return done, False
            except Exception:  # noqa: BLE001 - its lease runs out and a later pass tries again; the others go on
                log.warning("card for ticket #%s not posted; retried when its lease ends", ticket.id, exc_info=True)
        return done, True

    async def _deliver_message(self, sender: Sender, message: TicketMessage, answered: dict[int, tuple]) -> int:
        """One message, either way; 1 when it was delivered."""
        citizen = None
        try:
            ticket = await self.store.tickets.get(message.ticket_id)
            citizen = await self.store.citizens.by_id(ticket.citizen_id) if ticket else None
            if message.direction == "citizen" and ticket is not None and ticket.card_message_id is None:
                return 0  # its card comes first
            if not await self.store.outbox.claim_message(message.id):
                return 0  # another instance is delivering it
            if ticket is None or citizen is None:
                raise LookupError(f"ticket #{message.ticket_id} or its citizen is gone")
            if message.direction == "librarian":
                if citizen.channel != sender.channel:  # a console citizen's id means nothing to Telegram
                    raise LookupError(f"the citizen of ticket #{ticket.id} is not on {sender.channel}")
                entry = self._knowledge().entry(message.entry_id) if message.entry_id else None
                if entry is not None:
                    await sender.send_entry_to_citizen(citizen, ticket, message, entry, self._notices(entry))
                else:  # a typed answer, or an entry a reload removed since: its stored text
                    await sender.send_to_citizen(citizen, ticket, message)
                await self.store.outbox.mark_delivered(message.id)
                answered[ticket.id] = (ticket, (message.author, message.created_at), message.entry_id)
            else:
                first, *rest = await sender.send_to_group(ticket, message, citizen.first_name, ticket.card_message_id)
                await self.store.outbox.mark_delivered(message.id, first)
                await self.store.outbox.add_group_messages(ticket.id, [first, *rest])
            return 1
        except RetryLater as error:
            await self.store.outbox.retry_later(message.id, error.after)
        except Blocked as error:
            if message.direction == "librarian":
                for blocked in await self.store.citizens.mark_blocked(citizen.id):
                    await self._note(sender, locales.text(locales.GROUP, "group_blocked", number=blocked.id))
                    await self._refresh_card(sender, blocked)
            else:
                await self._failed(sender, message, error)
        except Refused as error:
            await self._failed(sender, message, error)
            if message.media and message.attempts >= 2:
                await self.store.outbox.drop_media(message.id)  # the text alone, next time
        except Exception as error:  # noqa: BLE001 - network faults, bad rows, anything: this item only
            await self._failed(sender, message, error)
        return 0

    async def _send_notices(self, sender: Sender) -> None:
        for ticket in await self.store.outbox.notices_to_send(sender.channel):
            notice = await self.store.outbox.claim_notice(ticket.id)
            if notice is None:
                continue  # another instance sent it
            try:
                citizen = await self.store.citizens.by_id(ticket.citizen_id)
                if citizen is not None and not citizen.blocked:
                    await sender.send_notice(citizen, ticket)
            except Blocked:
                pass  # nobody to tell
            except (RetryLater, Unreachable, Refused):
                await self.store.outbox.restore_notice(ticket.id, notice)
                break
            except Exception:  # noqa: BLE001 - a notice is a courtesy: this one is dropped, the others go on
                log.warning("closing notice of ticket #%s not sent", ticket.id, exc_info=True)

    async def _failed(self, sender: Sender, message: TicketMessage, error: Exception) -> None:
        """One message could not be delivered: retry it later, or give up after MAX_ATTEMPTS and say so."""
        log.warning("message %s of ticket #%s not delivered (attempt %s): %r", message.id, message.ticket_id,
                    message.attempts + 1, error)
        if message.attempts + 1 < MAX_ATTEMPTS:
            await self.store.outbox.retry_later(message.id, backoff(message.attempts))
            return
        await self.store.outbox.give_up(message.id)
        await self._note(sender, locales.text(locales.GROUP, "delivery_gave_up", message=message.id,
                                              number=message.ticket_id, attempts=MAX_ATTEMPTS, error=reason(error)))

    @staticmethod
    async def _note(sender: Sender, text: str) -> None:
        try:
            await sender.send_note(text)
        except DeliveryError as error:
            log.warning("could not tell the librarians: %s", error)

    async def refresh(self, sender: Sender, ticket_id: int) -> None:
        """Redraw a ticket's card in the librarians' group."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket:
            await self._refresh_card(sender, ticket)

    async def _refresh_card(self, sender: Sender, ticket: Ticket, *, answered: tuple | None = None,
                            answered_with: str | None = None) -> None:
        """Show the ticket's current state on its card (best effort: the database is the record)."""
        if ticket.card_message_id is None:
            return
        fresh = await self.store.tickets.get(ticket.id) or ticket
        if answered is None:
            answered = await self.store.tickets.last_answer(fresh.id)
            answered_with = await self.store.suggested.last_answer_entry(fresh.id) if answered else None
        try:
            await sender.edit_card(await self._card(fresh, answered, answered_with), fresh.card_message_id)
        except DeliveryError as error:
            log.info("card of ticket #%s not updated: %s", fresh.id, error)


class Courier:
    """Runs delivery passes one at a time: every few seconds from a job, and soon after each event.

    `soon()` returns at once and the pass runs in the background: a handler never waits for a front end's
    limits (Telegram: 20 messages a minute in a group), so a burst of new tickets does not slow anyone's
    answers. Asked again while a pass runs, one more pass follows it.
    """

    def __init__(self, deliver: Callable[[], Awaitable[object]]) -> None:
        self._deliver = deliver
        self._lock = asyncio.Lock()
        self._background: asyncio.Task | None = None
        self._again = False

    async def run(self) -> None:
        """One pass now (after the pass in progress, if any)."""
        async with self._lock:
            await self._deliver()

    def soon(self) -> None:
        if self._background is not None and not self._background.done():
            self._again = True
            return
        self._background = asyncio.get_running_loop().create_task(self._passes(), name="delivery soon")

    async def _passes(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except Exception:  # noqa: BLE001 - all of it is still in the database: the job tries again
                log.warning("delivery pass failed; the delivery job will retry", exc_info=True)
            if not self._again:
                return

    async def settled(self, timeout: float | None = None) -> None:
        """Wait for the passes asked for so far; after `timeout` seconds, cancel them (at shutdown)."""
        task = self._background
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            task.cancel()
