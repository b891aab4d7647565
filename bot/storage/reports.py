"""The figures of `egov-bot report`: questions, feedback and tickets counted in SQL, by day and by outcome.

Every method is one GROUP BY over a period, so a report of 90 days of questions reads a few hundred rows, not
the questions themselves. Days are local days: `offset` minutes east of UTC (the database stores UTC).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, cast, func, select, text

from bot.domain import Action, TicketStatus
from bot.storage.database import Database
from bot.storage.schema import FeedbackRow, QuestionRow, TicketRow


def _day(database: Database, column, offset: int):
    """The local day of a UTC timestamp column, as SQL."""
    if database.engine.dialect.name == "postgresql":
        return func.date(column + text(f"interval '{int(offset)} minutes'"))
    return func.date(column, f"{int(offset):+d} minutes")


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class Reports:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions

    async def questions_by_day(self, since: dt.datetime, offset: int = 0) -> list[tuple[dt.date, str, int]]:
        """(local day, decision, questions) of the questions asked since `since`, by day."""
        day = _day(self._database, QuestionRow.created_at, offset).label("day")
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(day, QuestionRow.decision, func.count()).where(QuestionRow.created_at >= since)
                .group_by(day, QuestionRow.decision).order_by(day))
            return [(_as_date(d), decision, int(n)) for d, decision, n in rows]

    async def questions_by_language(self, since: dt.datetime) -> list[tuple[str, str, int]]:
        """(language, decision, questions) since `since`."""
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(QuestionRow.lang, QuestionRow.decision, func.count()).where(QuestionRow.created_at >= since)
                .group_by(QuestionRow.lang, QuestionRow.decision).order_by(QuestionRow.lang))
            return [(lang, decision, int(n)) for lang, decision, n in rows]

    async def answered_entries(self, since: dt.datetime) -> list[tuple[str, int]]:
        """(entry id, times answered with it) since `since`, the most asked first."""
        uses = func.count()
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(QuestionRow.entry_id, uses)
                .where(QuestionRow.created_at >= since, QuestionRow.decision == str(Action.ANSWER),
                       QuestionRow.entry_id.is_not(None))
                .group_by(QuestionRow.entry_id).order_by(uses.desc(), QuestionRow.entry_id))
            return [(entry_id, int(n)) for entry_id, n in rows]

    async def feedback_by_entry(self, since: dt.datetime) -> list[tuple[str, int, int]]:
        """(entry id, helpful, not helpful) since `since`, the most "not helpful" first."""
        unhelpful = func.sum(cast(FeedbackRow.helpful.is_(False), Integer))
        helpful = func.sum(cast(FeedbackRow.helpful.is_(True), Integer))
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(FeedbackRow.entry_id, helpful, unhelpful).where(FeedbackRow.created_at >= since)
                .group_by(FeedbackRow.entry_id).order_by(unhelpful.desc(), FeedbackRow.entry_id))
            return [(entry_id, int(yes or 0), int(no or 0)) for entry_id, yes, no in rows]

    async def tickets_by_day(self, since: dt.datetime, offset: int = 0) -> list[tuple[dt.date, int]]:
        """(local day, tickets opened) since `since`; withdrawn tickets are left out."""
        day = _day(self._database, TicketRow.created_at, offset).label("day")
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(day, func.count()).where(TicketRow.created_at >= since,
                                                TicketRow.status != str(TicketStatus.WITHDRAWN))
                .group_by(day).order_by(day))
            return [(_as_date(d), int(n)) for d, n in rows]

    async def ratings(self, since: dt.datetime) -> dict[int, int]:
        """{rating: tickets} of the tickets opened since `since` that citizens rated."""
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketRow.rating, func.count()).where(TicketRow.created_at >= since,
                                                             TicketRow.rating.is_not(None))
                .group_by(TicketRow.rating))
            return {int(rating): int(n) for rating, n in rows}
