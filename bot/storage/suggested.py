"""Answers with a knowledge-base entry (a librarian pressed a suggestion on the card, or wrote /answer), and
the suggested wordings they leave for editors: the citizen's masked question and the entry it was answered
with, one per ticket and entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import distinct, func, select, update

from bot.domain import OPEN_STATUSES, Direction, SuggestedVariant, TicketMessage, utcnow
from bot.storage.database import Database
from bot.storage.schema import SuggestedVariantRow, TicketMessageRow, TicketRow, as_message


class Suggested:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions

    async def answer(self, ticket_id: int, entry_id: str, question: str, lang: str, text: str,
                     author: str) -> tuple[TicketMessage | None, str | None]:
        """Store a librarian's answer with an entry for delivery, and the suggested wording, in one transaction:
        (the message, None); or (None, "closed") when the ticket is no longer open, (None, "repeated") when
        this ticket was already answered with this entry (a double tap, or two librarians at once)."""
        async with self._sessions.begin() as session:
            now = utcnow()
            opened = await session.execute(  # also locks the ticket's row (PostgreSQL) until the end
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.status.in_(OPEN_STATUSES))
                .values(first_reply_at=func.coalesce(TicketRow.first_reply_at, now)))
            if opened.rowcount != 1:
                return None, "closed"
            table = SuggestedVariantRow.__table__
            added = await session.execute(
                self._database.insert(table).values(ticket_id=ticket_id, entry_id=entry_id, lang=lang, question=question,
                                                    created_by=author[:128], created_at=now)
                .on_conflict_do_nothing(index_elements=[table.c.ticket_id, table.c.entry_id]))
            if added.rowcount != 1:
                return None, "repeated"
            row = TicketMessageRow(ticket_id=ticket_id, direction=Direction.LIBRARIAN, text=text, author=author[:128],
                                   entry_id=entry_id, created_at=now)
            session.add(row)
            await session.flush()
            return as_message(row), None

    async def last_answer_entry(self, ticket_id: int) -> str | None:
        """The entry of the ticket's last librarian answer, when that answer was an entry."""
        async with self._sessions.begin() as session:
            return await session.scalar(
                select(TicketMessageRow.entry_id)
                .where(TicketMessageRow.ticket_id == ticket_id, TicketMessageRow.direction == Direction.LIBRARIAN)
                .order_by(TicketMessageRow.id.desc()).limit(1))

    async def answered_tickets(self, since: dt.datetime) -> int:
        """Tickets opened since then that a librarian answered with a knowledge-base entry."""
        async with self._sessions.begin() as session:
            return await session.scalar(
                select(func.count(distinct(TicketMessageRow.ticket_id)))
                .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .where(TicketMessageRow.entry_id.is_not(None), TicketMessageRow.direction == Direction.LIBRARIAN,
                       TicketRow.created_at >= since)) or 0

    async def variants(self) -> list[SuggestedVariant]:
        """Every suggested wording, oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(SuggestedVariantRow).order_by(SuggestedVariantRow.id))
            return [SuggestedVariant(r.ticket_id, r.entry_id, r.lang, r.question, r.created_by, r.created_at)
                    for r in rows]
