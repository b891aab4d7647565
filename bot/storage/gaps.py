"""What `egov-bot kb gaps` reads: the questions the bot did not answer well (escalated ones in the question
log, tickets of citizens who declined the offered entries, found an answer not helpful or got stuck at a
step, and the tickets a librarian answered with an entry), the librarians' typed answers to those tickets,
and the groups editors marked as not for the knowledge base."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.domain import Action, Direction, TicketKind, utcnow
from bot.storage.database import Database
from bot.storage.schema import (DraftRow, GapIgnoreRow, GroupMessageRow, QuestionRow, SuggestedVariantRow,
                                TicketMessageRow, TicketRow)


@dataclass
class GapSignal:
    """One message the bot did not answer well. `source`: escalated, declined, not-helpful or stuck."""

    source: str
    citizen: str                # who asked: the citizen's id ("q<row>" when the log row has none)
    question: str               # masked, as stored
    lang: str
    ticket_id: int | None = None
    entry_id: str | None = None  # not-helpful, stuck: the entry whose answer did not help
    offered: tuple[str, ...] = ()  # declined: the entries the matcher offered (the citizen refused them)
    answered_with: list[str] = field(default_factory=list)  # entries a librarian answered the ticket with


@dataclass(frozen=True)
class LibrarianAnswer:
    ticket_id: int
    lang: str
    text: str
    author: str
    rating: int | None
    saved_as_draft: bool  # a librarian saved it for editors (kb drafts)


_KINDS = {TicketKind.UNMATCHED: "escalated", TicketKind.DECLINED: "declined", TicketKind.NOT_HELPFUL: "not-helpful",
          TicketKind.STUCK: "stuck"}


class Gaps:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions

    async def signals(self, since: dt.datetime) -> list[GapSignal]:
        """The period's messages the bot did not answer well, one each. An escalated question is in the log
        and, unless it joined an open ticket, opened a ticket too: the two are one message."""
        async with self._sessions.begin() as session:
            logged = (await session.execute(
                select(QuestionRow.id, QuestionRow.citizen_id, QuestionRow.question, QuestionRow.lang)
                .where(QuestionRow.created_at >= since, QuestionRow.decision == Action.ESCALATE)
                .order_by(QuestionRow.id))).all()
            tickets = list(await session.scalars(
                select(TicketRow).where(TicketRow.created_at >= since).order_by(TicketRow.id)))
            variants = (await session.execute(
                select(SuggestedVariantRow.ticket_id, SuggestedVariantRow.entry_id, TicketRow)
                .join(TicketRow, TicketRow.id == SuggestedVariantRow.ticket_id)
                .where(SuggestedVariantRow.created_at >= since)
                .order_by(SuggestedVariantRow.id))).all()
        signals: list[GapSignal] = []
        unticketed: dict[tuple[str, str], list[GapSignal]] = {}
        for row_id, citizen_id, question, lang in logged:
            signal = GapSignal("escalated", str(citizen_id) if citizen_id is not None else f"q{row_id}", question, lang)
            signals.append(signal)
            unticketed.setdefault((signal.citizen, question), []).append(signal)
        by_ticket: dict[int, GapSignal] = {}

        def of_ticket(row: TicketRow) -> GapSignal:
            if row.id in by_ticket:
                return by_ticket[row.id]
            source = _KINDS.get(row.kind, "escalated")
            waiting = unticketed.get((str(row.citizen_id), row.question)) if source == "escalated" else None
            if waiting:
                signal = waiting.pop(0)
            else:
                offered = tuple(c.get("id", "") for c in json.loads(row.candidates or "[]")) if source == "declined" else ()
                signal = GapSignal(source, str(row.citizen_id), row.question, row.lang, entry_id=row.entry_id,
                                   offered=offered)
                signals.append(signal)
            signal.ticket_id = row.id
            by_ticket[row.id] = signal
            return signal

        for row in tickets:
            of_ticket(row)
        for _, entry_id, row in variants:  # answered with an entry; the ticket may be older than the period
            signal = of_ticket(row)
            if entry_id not in signal.answered_with:
                signal.answered_with.append(entry_id)
        return signals

    async def answers(self, ticket_ids: list[int]) -> list[LibrarianAnswer]:
        """The librarians' typed answers to these tickets (not entries sent as answers), one per ticket: the one
        saved as a draft, else the reply to the ticket's card, else the first reply."""
        if not ticket_ids:
            return []
        wanted = sorted(set(ticket_ids))
        async with self._sessions.begin() as session:
            tickets = {row.id: row for row in await session.scalars(select(TicketRow).where(TicketRow.id.in_(wanted)))}
            drafts = {row.ticket_id: row for row in await session.scalars(
                select(DraftRow).where(DraftRow.ticket_id.in_(wanted)))}
            replies = (await session.execute(
                select(TicketMessageRow.ticket_id, TicketMessageRow.text, TicketMessageRow.author,
                       TicketMessageRow.in_reply_to)
                .where(TicketMessageRow.ticket_id.in_(wanted), TicketMessageRow.direction == Direction.LIBRARIAN,
                       TicketMessageRow.text != "", TicketMessageRow.entry_id.is_(None))
                .order_by(TicketMessageRow.id))).all()
            cards: dict[int, set[int]] = {}
            for ticket_id, message_id in (await session.execute(
                    select(GroupMessageRow.ticket_id, GroupMessageRow.message_id)
                    .where(GroupMessageRow.ticket_id.in_(wanted), GroupMessageRow.is_card.is_(True)))).all():
                cards.setdefault(ticket_id, set()).add(message_id)
        typed: dict[int, list] = {}
        for reply in replies:
            typed.setdefault(reply.ticket_id, []).append(reply)
        found = []
        for ticket_id in wanted:
            ticket = tickets.get(ticket_id)
            if ticket is None:
                continue
            if ticket_id in drafts:
                draft = drafts[ticket_id]
                found.append(LibrarianAnswer(ticket_id, ticket.lang, draft.answer, draft.created_by, ticket.rating, True))
            elif ticket_id in typed:
                card = cards.get(ticket_id, set()) | ({ticket.card_message_id} if ticket.card_message_id else set())
                reply = next((r for r in typed[ticket_id] if r.in_reply_to in card), typed[ticket_id][0])
                found.append(LibrarianAnswer(ticket_id, ticket.lang, reply.text, reply.author, ticket.rating, False))
        return found

    async def ignored(self) -> dict[str, str]:
        """The ignored groups: key -> the stems of its representative wording."""
        async with self._sessions.begin() as session:
            return {row.key: row.stems for row in await session.scalars(select(GapIgnoreRow))}

    async def ignore(self, key: str, stems: str, example: str) -> bool:
        """Mark a group as not for the knowledge base; False when it already was (also when two ask at once)."""
        table = GapIgnoreRow.__table__
        async with self._sessions.begin() as session:
            added = await session.execute(
                self._database.insert(table).values(key=key, stems=stems, example=example, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=[table.c.key]))
            return added.rowcount == 1
