"""The librarians' desk, part of the HelpDesk (which inherits it): canned replies (`/r ID`), handing a taken
ticket back to the queue (Release), and the queue at a glance (/queue).

It never imports telegram; the front ends reach it through the HelpDesk like everything else.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import Direction, ReleaseResult, Ticket
from bot.knowledge import CannedReply
from bot.results import LibrarianReply, QueueItem


class LibrarianDesk:
    """Mixed into HelpDesk: uses its `knowledge`, `store`, `clock` and `reply()`."""

    # --- canned replies (knowledge/replies.yaml, reloaded with the knowledge base) ----------------

    @property
    def canned_replies(self) -> tuple[CannedReply, ...]:
        return self.knowledge.kb.replies

    def canned(self, reply_id: str) -> CannedReply | None:
        return self.knowledge.kb.reply(reply_id)

    async def send_canned(self, reply: CannedReply, personal: str, reply_to_group_message: int, librarian: str,
                          group_message_id: int, *, ticket_number: int | None = None) -> LibrarianReply | None:
        """A canned reply to the ticket a group message belongs to, in the ticket's language, with the
        librarian's personal line after it; stored and delivered exactly as a typed reply (see HelpDesk.reply).
        None when the message belongs to no ticket."""
        ticket = await self.store.tickets.for_group_message(reply_to_group_message)
        if ticket is None and ticket_number is not None:
            ticket = await self.store.tickets.get(ticket_number)
        if ticket is None:
            return None
        text = reply.text.get(ticket.lang) or reply.text["ru"]
        if personal.strip():
            text = f"{text}\n\n{personal.strip()}"
        return await self.reply(reply_to_group_message, text, librarian, group_message_id, ticket_number=ticket.id,
                                canned=reply.id)

    # --- Release ---------------------------------------------------------------------------------

    async def release(self, ticket_id: int, librarian_id: int) -> ReleaseResult:
        """Give a taken ticket back to the queue; only the librarian who took it may."""
        return await self.store.tickets.release(ticket_id, librarian_id)

    # --- the queue at a glance -------------------------------------------------------------------

    def waited_minutes(self, since: dt.datetime, now: dt.datetime) -> int:
        """How long a ticket has waited, in the librarians' working minutes: the one place /queue's ages are counted."""
        return int(self.working_time().minutes_between(since, now))

    def past_reminder(self, ticket: Ticket, waited_minutes: int, waiting_for_citizen: bool) -> bool:
        """Whether /queue marks the ticket as past its reminder: nobody took it for TAKE_REMINDER_MINUTES, or
        it was taken REPLY_REMINDER_MINUTES ago and still waits for a librarian's answer (as bot.reminders counts)."""
        if waiting_for_citizen:
            return False
        timers = self.reminders.timers
        if ticket.status == "open":
            return bool(timers.take_minutes) and waited_minutes >= timers.take_minutes
        if ticket.taken_at is None or not timers.reply_minutes:
            return False
        now = self.clock().astimezone(dt.timezone.utc).replace(tzinfo=None)
        return self.waited_minutes(ticket.taken_at, now) >= timers.reply_minutes

    async def queue_view(self) -> list[QueueItem]:
        """Open tickets, oldest first: how long each has waited and whose turn it is."""
        tickets = await self.store.tickets.queue()
        directions = await self.store.tickets.last_directions([ticket.id for ticket in tickets])
        now = self.clock().astimezone(dt.timezone.utc).replace(tzinfo=None)
        items = []
        for ticket in tickets:
            waited = self.waited_minutes(ticket.created_at, now)
            for_citizen = directions.get(ticket.id) == Direction.LIBRARIAN
            items.append(QueueItem(ticket, waited, for_citizen, self.past_reminder(ticket, waited, for_citizen)))
        return items
