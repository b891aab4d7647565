"""Tickets: opened for the librarians, taken, closed, rated; their messages both ways, and which ticket a
message in the librarians' group belongs to."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from sqlalchemy import func, select, update

from bot.domain import (OPEN_STATUSES, Direction, Notice, ReleaseResult, TakeResult, Ticket, TicketKind, TicketMessage, TicketStatus,
                        utcnow)
from bot.storage.database import Database
from bot.storage.group_commit import Batched
from bot.storage.schema import CannedUseRow, GroupMessageRow, TicketMessageRow, TicketRow, as_message, as_ticket


async def open_tickets_in(connection, citizen_ids: list[int]) -> dict[int, list[Ticket]]:
    """The open tickets of these citizens, oldest first, in one query (plain rows: this runs for every message)."""
    tickets: dict[int, list[Ticket]] = defaultdict(list)
    if citizen_ids:
        table = TicketRow.__table__
        rows = await connection.execute(
            select(table).where(table.c.citizen_id.in_(set(citizen_ids)), table.c.status.in_(OPEN_STATUSES))
            .order_by(table.c.created_at, table.c.id)
        )
        for row in rows:
            tickets[row.citizen_id].append(as_ticket(row))
    return tickets


class Tickets:
    """Each method owns its session; queue_of() is batched with the calls made at the same time (see Batched)."""

    def __init__(self, database: Database) -> None:
        self._sessions = database.sessions
        self._queues_of = Batched(self._queues_of_many)

    async def open(self, citizen_id: int, question: str, lang: str, *, kind: TicketKind = TicketKind.UNMATCHED,
                   entry_id: str | None = None, step: int | None = None,
                   candidates: list[dict] | None = None) -> Ticket:
        async with self._sessions.begin() as session:
            row = TicketRow(citizen_id=citizen_id, question=question, lang=lang, kind=kind, entry_id=entry_id,
                            step=step, candidates=json.dumps(candidates or [], ensure_ascii=False))
            session.add(row)
            await session.flush()
            return as_ticket(row)

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._sessions.begin() as session:
            row = await session.get(TicketRow, ticket_id)
            return as_ticket(row) if row else None

    async def queue(self) -> list[Ticket]:
        """Tickets waiting for a librarian, oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES)).order_by(TicketRow.created_at, TicketRow.id)
            )
            return [as_ticket(row) for row in rows]

    async def queue_of(self, citizen_id: int) -> list[Ticket]:
        """The citizen's open tickets, oldest first."""
        return await self._queues_of(citizen_id)

    async def _queues_of_many(self, citizen_ids: list[int]) -> list[list[Ticket]]:
        async with self._sessions.begin() as session:
            tickets = await open_tickets_in(session, citizen_ids)
        return [list(tickets.get(citizen_id, [])) for citizen_id in citizen_ids]

    async def take(self, ticket_id: int, librarian_id: int, librarian: str) -> TakeResult:
        """Give the ticket to this librarian unless someone already has it: one atomic UPDATE."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == TicketStatus.OPEN)
                .values(status=TicketStatus.TAKEN, taken_by=librarian[:128], taken_by_id=librarian_id, taken_at=utcnow())
            )
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            if row is None:
                return TakeResult(None, False)
            taken = result.rowcount == 1 or (row.status == TicketStatus.TAKEN and row.taken_by_id == librarian_id)
            return TakeResult(as_ticket(row), taken)

    async def release(self, ticket_id: int, librarian_id: int) -> ReleaseResult:
        """Put a taken ticket back in the queue, if this librarian has it: one atomic UPDATE."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == TicketStatus.TAKEN,
                       TicketRow.taken_by_id == librarian_id)
                .values(status=TicketStatus.OPEN, taken_by=None, taken_by_id=None, taken_at=None)
            )
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            return ReleaseResult(as_ticket(row) if row else None, result.rowcount == 1)

    async def close(self, ticket_id: int, by: str, *, status: TicketStatus = TicketStatus.CLOSED) -> Ticket | None:
        """Close (or withdraw) an open ticket; None when there is no such open ticket."""
        async with self._sessions.begin() as session:
            values = {"status": status, "closed_at": utcnow(), "closed_by": by[:128]}
            if status == TicketStatus.CLOSED:
                values["notice"] = Notice.CLOSED
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.status.in_(OPEN_STATUSES)).values(**values)
            )
            if result.rowcount != 1:
                return None
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            return as_ticket(row)

    async def rate(self, ticket_id: int, citizen_id: int, rating: int) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.citizen_id == citizen_id,
                                        TicketRow.status == TicketStatus.CLOSED).values(rating=rating)
            )
            return result.rowcount == 1

    async def awaiting_rating(self, citizen_id: int, since: dt.datetime) -> Ticket | None:
        """The citizen's latest ticket closed since `since` whose rating prompt was sent and not answered."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(TicketRow).where(TicketRow.citizen_id == citizen_id, TicketRow.status == TicketStatus.CLOSED,
                                        TicketRow.rating.is_(None), TicketRow.notice.is_(None),
                                        TicketRow.closed_at >= since)
                .order_by(TicketRow.closed_at.desc(), TicketRow.id.desc()).limit(1))
            return as_ticket(row) if row else None

    async def idle_answered(self, silent_since: dt.datetime) -> list[Ticket]:
        """Open tickets whose last message is a librarian's, and nobody wrote on since `silent_since` (a ticket
        whose citizen wrote last still waits for a librarian, however long)."""
        async with self._sessions.begin() as session:
            recent = select(TicketMessageRow.ticket_id).where(TicketMessageRow.created_at >= silent_since)
            last_id = (select(func.max(TicketMessageRow.id)).where(TicketMessageRow.ticket_id == TicketRow.id)
                       .correlate(TicketRow).scalar_subquery())
            last_direction = select(TicketMessageRow.direction).where(TicketMessageRow.id == last_id).scalar_subquery()
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.first_reply_at.is_not(None),
                                        TicketRow.first_reply_at < silent_since, TicketRow.id.not_in(recent),
                                        last_direction == Direction.LIBRARIAN)
                .order_by(TicketRow.id))
            return [as_ticket(row) for row in rows]

    # --- the ticket's messages, both ways (the outbox delivers them) ----------------------------

    async def add_message(self, ticket_id: int, direction: Direction, text: str, *, author: str = "",
                          media: str | None = None, source_chat_id: int | None = None,
                          source_message_id: int | None = None, group_message_id: int | None = None,
                          delivered: bool = False, in_reply_to: int | None = None,
                          canned: str | None = None) -> TicketMessage:
        """Store a message first; the delivery job sends it (and retries) until it is delivered. `canned`: the
        id of the canned reply it was made from (counted by the statistics)."""
        async with self._sessions.begin() as session:
            row = TicketMessageRow(ticket_id=ticket_id, direction=direction, text=text, author=author[:128],
                                   media=media, source_chat_id=source_chat_id, source_message_id=source_message_id,
                                   group_message_id=group_message_id, delivered=delivered, in_reply_to=in_reply_to,
                                   delivered_at=utcnow() if delivered else None)
            session.add(row)
            if direction == Direction.LIBRARIAN:
                await session.execute(
                    update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.first_reply_at.is_(None))
                    .values(first_reply_at=utcnow())
                )
            await session.flush()
            if canned is not None:
                session.add(CannedUseRow(ticket_id=ticket_id, reply_id=canned, message_id=row.id, librarian=author[:128]))
            return as_message(row)

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketMessageRow).where(TicketMessageRow.ticket_id == ticket_id).order_by(TicketMessageRow.id)
            )
            return [as_message(row) for row in rows]

    async def last_librarian_message_at(self, ticket_ids: list[int]) -> dict[int, dt.datetime]:
        """When a librarian last wrote on each of these tickets."""
        if not ticket_ids:
            return {}
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketMessageRow.ticket_id, func.max(TicketMessageRow.created_at))
                .where(TicketMessageRow.ticket_id.in_(set(ticket_ids)), TicketMessageRow.direction == Direction.LIBRARIAN)
                .group_by(TicketMessageRow.ticket_id))
            return {ticket_id: moment for ticket_id, moment in rows}

    async def last_directions(self, ticket_ids: list[int]) -> dict[int, Direction]:
        """Which way the last message of each of these tickets went (tickets without messages are left out)."""
        if not ticket_ids:
            return {}
        async with self._sessions.begin() as session:
            last = (select(func.max(TicketMessageRow.id))
                    .where(TicketMessageRow.ticket_id.in_(set(ticket_ids))).group_by(TicketMessageRow.ticket_id))
            rows = await session.execute(
                select(TicketMessageRow.ticket_id, TicketMessageRow.direction).where(TicketMessageRow.id.in_(last)))
            return {ticket_id: Direction(direction) for ticket_id, direction in rows}

    async def last_answer(self, ticket_id: int) -> tuple[str, dt.datetime] | None:
        """Who answered the ticket last, and when."""
        async with self._sessions.begin() as session:
            row = (await session.execute(
                select(TicketMessageRow.author, TicketMessageRow.created_at)
                .where(TicketMessageRow.ticket_id == ticket_id, TicketMessageRow.direction == Direction.LIBRARIAN)
                .order_by(TicketMessageRow.id.desc()).limit(1)
            )).first()
            return (row[0], row[1]) if row else None

    async def for_group_message(self, message_id: int) -> Ticket | None:
        """The ticket a message in the librarians' group belongs to (its card or any of its messages)."""
        async with self._sessions.begin() as session:
            row = await session.scalar(select(TicketRow).where(TicketRow.card_message_id == message_id))
            if row is None:
                ticket_id = await session.scalar(
                    select(GroupMessageRow.ticket_id).where(GroupMessageRow.message_id == message_id))
                if ticket_id is None:
                    ticket_id = await session.scalar(
                        select(TicketMessageRow.ticket_id).where(TicketMessageRow.group_message_id == message_id).limit(1))
                row = await session.get(TicketRow, ticket_id) if ticket_id is not None else None
            return as_ticket(row) if row else None
