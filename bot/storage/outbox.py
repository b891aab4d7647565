"""What is still to be delivered: tickets' cards for the librarians' group, messages both ways, and notices
to citizens. Each item is claimed by one instance (a lease or an atomic UPDATE), then marked delivered,
retried later, or given up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update

from bot.domain import OPEN_STATUSES, Channel, Direction, Notice, Ticket, TicketMessage, utcnow
from bot.storage.database import Database
from bot.storage.schema import CitizenRow, GroupMessageRow, TicketMessageRow, TicketRow, as_message, as_ticket

LEASE_SECONDS = 60.0  # how long an instance may take to deliver what it claimed before another retries


class Outbox:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions

    # --- cards in the librarians' group ---------------------------------------------------------

    async def cards_to_post(self) -> list[Ticket]:
        """Open tickets whose card is not yet in the librarians' group (and nobody is posting it)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.card_message_id.is_(None),
                                        or_(TicketRow.card_lease_until.is_(None), TicketRow.card_lease_until < now))
                .order_by(TicketRow.id)
            )
            return [as_ticket(row) for row in rows]

    async def claim_card(self, ticket_id: int, lease: float = LEASE_SECONDS) -> bool:
        """Reserve the posting of a card for this instance for `lease` seconds: one atomic UPDATE."""
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.card_message_id.is_(None),
                       or_(TicketRow.card_lease_until.is_(None), TicketRow.card_lease_until < now))
                .values(card_lease_until=now + dt.timedelta(seconds=lease))
            )
            return result.rowcount == 1

    async def release_card(self, ticket_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(card_lease_until=None))

    async def card_posted(self, ticket_id: int, message_id: int) -> None:
        """The ticket's card is in the group as this message: replies to it reach the ticket."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(card_message_id=message_id))
            await self._add_group_messages(session, ticket_id, [message_id], is_card=True)

    async def add_group_messages(self, ticket_id: int, message_ids: list[int], *, is_card: bool = False) -> None:
        """More pieces the bot posted in the group for this ticket (a long card or message split up)."""
        async with self._sessions.begin() as session:
            await self._add_group_messages(session, ticket_id, message_ids, is_card=is_card)

    async def _add_group_messages(self, session, ticket_id: int, message_ids: list[int], *, is_card: bool) -> None:
        table = GroupMessageRow.__table__
        if message_ids:
            await session.execute(self._database.insert(table).values(
                [{"message_id": m, "ticket_id": ticket_id, "is_card": is_card} for m in message_ids])
                .on_conflict_do_nothing(index_elements=[table.c.message_id]))

    # --- ticket messages, both ways -------------------------------------------------------------

    async def pending_messages(self, now: dt.datetime | None = None, limit: int = 50, *,
                               channel: Channel = Channel.TELEGRAM) -> list[TicketMessage]:
        """Messages due for (another) delivery attempt, oldest first: everything for the librarians' group,
        and the librarians' answers to citizens of `channel` (a console citizen's answers wait for the console)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketMessageRow)
                .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .join(CitizenRow, CitizenRow.id == TicketRow.citizen_id)
                .where(TicketMessageRow.delivered.is_(False), TicketMessageRow.failed.is_(False),
                       TicketMessageRow.next_attempt_at <= now,
                       or_(TicketMessageRow.direction == Direction.CITIZEN, CitizenRow.channel == channel))
                .order_by(TicketMessageRow.id).limit(limit)
            )
            return [as_message(row) for row in rows]

    async def answers_for(self, citizen_id: int) -> list[TicketMessage]:
        """Librarians' answers not yet shown to this citizen (the console shows them itself), oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketMessageRow).join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .where(TicketRow.citizen_id == citizen_id, TicketMessageRow.direction == Direction.LIBRARIAN,
                       TicketMessageRow.delivered.is_(False), TicketMessageRow.failed.is_(False))
                .order_by(TicketMessageRow.id))
            return [as_message(row) for row in rows]

    async def claim_message(self, message_id: int, lease: float = LEASE_SECONDS) -> bool:
        """Reserve one delivery attempt for this instance: the message is due and nobody else has it.

        The reservation is a lease: if this instance dies before marking the message delivered, another
        one tries again when the lease ends.
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketMessageRow)
                .where(TicketMessageRow.id == message_id, TicketMessageRow.delivered.is_(False),
                       TicketMessageRow.failed.is_(False), TicketMessageRow.next_attempt_at <= now)
                .values(next_attempt_at=now + dt.timedelta(seconds=lease))
            )
            return result.rowcount == 1

    async def mark_delivered(self, message_id: int, group_message_id: int | None = None) -> None:
        async with self._sessions.begin() as session:
            values: dict = {"delivered": True, "delivered_at": utcnow()}
            if group_message_id is not None:
                values["group_message_id"] = group_message_id
            await session.execute(update(TicketMessageRow).where(TicketMessageRow.id == message_id).values(**values))

    async def retry_later(self, message_id: int, delay: float) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(TicketMessageRow).where(TicketMessageRow.id == message_id).values(
                    attempts=TicketMessageRow.attempts + 1,
                    next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                )
            )

    async def give_up(self, message_id: int) -> None:
        """No more delivery attempts for this message (it failed too often)."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketMessageRow).where(TicketMessageRow.id == message_id)
                                  .values(failed=True, attempts=TicketMessageRow.attempts + 1))

    async def drop_media(self, message_id: int) -> None:
        """Deliver only the text of a message whose attachment Telegram refuses to copy."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketMessageRow).where(TicketMessageRow.id == message_id).values(media=None))

    # --- notices to citizens --------------------------------------------------------------------

    async def notices_to_send(self, channel: Channel = Channel.TELEGRAM, citizen_id: int | None = None) -> list[Ticket]:
        """Tickets with a notice for their citizen still to send, of citizens on `channel` (or this citizen)."""
        async with self._sessions.begin() as session:
            query = (select(TicketRow).join(CitizenRow, CitizenRow.id == TicketRow.citizen_id)
                     .where(TicketRow.notice.is_not(None), CitizenRow.channel == channel))
            if citizen_id is not None:
                query = query.where(TicketRow.citizen_id == citizen_id)
            rows = await session.scalars(query.order_by(TicketRow.id))
            return [as_ticket(row) for row in rows]

    async def claim_notice(self, ticket_id: int) -> Notice | None:
        """Take a ticket's pending notice (atomically: one instance sends it); None if another took it."""
        async with self._sessions.begin() as session:
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            notice = row.notice if row else None
            if notice is None:
                return None
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.notice == notice).values(notice=None))
            return Notice(notice) if result.rowcount == 1 else None

    async def restore_notice(self, ticket_id: int, notice: Notice) -> None:
        """The notice could not be sent (the network is down): it is due again."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(notice=notice))
