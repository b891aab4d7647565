"""What editors learn from: the question log, citizens' feedback on answers, drafts made from librarians'
answers, and the figures of `egov-bot stats`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select

from bot.domain import OPEN_STATUSES, Direction, Draft, Action, StatsFigures, utcnow
from bot.storage.database import Database
from bot.storage.group_commit import Batched
from bot.storage.schema import CannedUseRow, DraftRow, FeedbackRow, GroupMessageRow, QuestionRow, TicketMessageRow, TicketRow, as_draft


class Insights:
    """Each method owns its session; log_question() is batched with the calls made at the same time (see Batched)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions
        self._questions = Batched(self._log_questions)

    # --- the question log and feedback ----------------------------------------------------------

    async def log_question(self, citizen_id: int | None, question: str, lang: str, action: Action,
                           entry_id: str | None, score: float) -> None:
        await self._questions({"citizen_id": citizen_id, "question": question, "lang": lang, "decision": str(action),
                               "entry_id": entry_id, "score": score, "created_at": utcnow()})

    async def _log_questions(self, rows: list[dict]) -> list[None]:
        async with self._database.engine.begin() as connection:  # a plain executemany: this runs for every question
            await connection.execute(insert(QuestionRow.__table__), rows)
        return [None] * len(rows)

    async def count_questions(self) -> int:
        async with self._sessions.begin() as session:
            return int(await session.scalar(select(func.count(QuestionRow.id))) or 0)

    async def logged_questions(self, since: dt.datetime) -> list[tuple[str, int]]:
        """The masked wordings logged since the given moment with the times each was asked, the most asked
        first (what `egov-bot kb replay` replays)."""
        async with self._sessions.begin() as session:
            asked = func.count(QuestionRow.id)
            rows = await session.execute(
                select(QuestionRow.question, asked).where(QuestionRow.created_at >= since)
                .group_by(QuestionRow.question).order_by(asked.desc(), QuestionRow.question))
            return [(question, int(count)) for question, count in rows]

    async def purge_questions(self, older_than: dt.datetime) -> int:
        """Delete question-log rows older than the given moment; how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(QuestionRow).where(QuestionRow.created_at < older_than))
            return result.rowcount or 0

    async def add_feedback(self, citizen_id: int, entry_id: str, helpful: bool) -> None:
        async with self._sessions.begin() as session:
            session.add(FeedbackRow(citizen_id=citizen_id, entry_id=entry_id, helpful=helpful))

    async def canned_counts(self, since: dt.datetime) -> list[tuple[str, int]]:
        """(canned reply id, times sent) since the given moment, the most used first."""
        async with self._sessions.begin() as session:
            uses = func.count(CannedUseRow.id)
            rows = await session.execute(
                select(CannedUseRow.reply_id, uses).where(CannedUseRow.created_at >= since)
                .group_by(CannedUseRow.reply_id).order_by(uses.desc(), CannedUseRow.reply_id))
            return [(reply_id, int(count)) for reply_id, count in rows]

    # --- drafts ---------------------------------------------------------------------------------

    async def add_draft(self, ticket_id: int, by: str) -> Draft | None:
        """Store the ticket's question and the librarians' answers as a draft entry (once per ticket)."""
        async with self._sessions.begin() as session:
            ticket = await session.get(TicketRow, ticket_id)
            if ticket is None:
                return None
            replies = list(await session.execute(
                select(TicketMessageRow.text, TicketMessageRow.author, TicketMessageRow.in_reply_to)
                .where(TicketMessageRow.ticket_id == ticket_id, TicketMessageRow.direction == Direction.LIBRARIAN,
                       TicketMessageRow.text != "")
                .order_by(TicketMessageRow.id)
            ))
            if not replies:
                return None
            card = set(await session.scalars(select(GroupMessageRow.message_id).where(
                GroupMessageRow.ticket_id == ticket_id, GroupMessageRow.is_card.is_(True))))
            if ticket.card_message_id is not None:
                card.add(ticket.card_message_id)
            # The answer to the question is the reply to its card; replies to later follow-ups answer those.
            answer = next((r for r in replies if r.in_reply_to in card), replies[0])
            author = answer.author or by
            existing = await session.scalar(select(DraftRow).where(DraftRow.ticket_id == ticket_id))
            if existing is None:
                existing = DraftRow(ticket_id=ticket_id, lang=ticket.lang, question=ticket.question,
                                    answer=answer.text, created_by=author[:128])
                session.add(existing)
            else:
                existing.answer, existing.created_by = answer.text, author[:128]
            await session.flush()
            return as_draft(existing)

    async def drafts(self) -> list[Draft]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(DraftRow).order_by(DraftRow.id))
            return [as_draft(row) for row in rows]

    # --- statistics -----------------------------------------------------------------------------

    async def stats(self, since: dt.datetime) -> StatsFigures:
        """Raw figures for `egov-bot stats`."""
        async with self._sessions.begin() as session:
            outcomes = (await session.execute(
                select(QuestionRow.decision, func.count()).where(QuestionRow.created_at >= since)
                .group_by(QuestionRow.decision)
            )).all()
            feedback = dict((await session.execute(
                select(FeedbackRow.helpful, func.count()).where(FeedbackRow.created_at >= since)
                .group_by(FeedbackRow.helpful)
            )).all())
            open_count = await session.scalar(select(func.count()).where(TicketRow.status.in_(OPEN_STATUSES)))
            waits = (await session.execute(
                select(TicketRow.created_at, TicketRow.first_reply_at)
                .where(TicketRow.created_at >= since, TicketRow.first_reply_at.is_not(None))
            )).all()
            unmatched = list(await session.scalars(
                select(QuestionRow.question).where(QuestionRow.created_at >= since,
                                                   QuestionRow.decision.in_((Action.ESCALATE, Action.CLARIFY)))
            ))
        return StatsFigures(
            outcomes={Action(outcome): count for outcome, count in outcomes},
            feedback=feedback,
            open_tickets=int(open_count or 0),
            waits=[(reply - created).total_seconds() for created, reply in waits],
            unmatched=unmatched,
        )
