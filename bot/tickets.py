"""The librarian queue and the question log on SQLAlchemy 2 (async): the only module that imports SQLAlchemy.

Everything needed to route a reply is stored here, so a restart loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class StoreError(Exception):
    """The database cannot be used (a wrong URL, a missing folder, a server that does not answer)."""


class Base(DeclarativeBase):
    pass


class CitizenRow(Base):
    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))          # "telegram", "console"
    external_id: Mapped[str] = mapped_column(String(64))      # the chat id on that channel
    language: Mapped[str] = mapped_column(String(2), default="ru")
    first_name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, taken, closed, withdrawn
    kind: Mapped[str] = mapped_column(String(16), default="unmatched")  # unmatched, not-helpful, stuck, declined
    lang: Mapped[str] = mapped_column(String(2), default="ru")
    question: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    step: Mapped[int | None] = mapped_column(default=None)
    candidates: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{"id", "score"}] the matcher considered
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(128), default=None)
    taken_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    card_message_id: Mapped[int | None] = mapped_column(default=None)


class TicketMessageRow(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # "citizen" or "librarian"
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered: Mapped[bool] = mapped_column(default=False)


class QuestionRow(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), default=None)
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True)
class Citizen:
    id: int
    channel: str
    external_id: str
    language: str
    first_name: str


@dataclass(frozen=True)
class Ticket:
    id: int
    citizen_id: int
    status: str
    kind: str
    lang: str
    question: str
    entry_id: str | None
    step: int | None
    candidates: list[dict]
    created_at: dt.datetime
    taken_by: str | None


def _ticket(row: TicketRow) -> Ticket:
    return Ticket(
        row.id, row.citizen_id, row.status, row.kind, row.lang, row.question, row.entry_id, row.step,
        json.loads(row.candidates or "[]"), row.created_at, row.taken_by,
    )


def _citizen(row: CitizenRow) -> Citizen:
    return Citizen(row.id, row.channel, row.external_id, row.language, row.first_name)


def default_database_url(directory: str = ".") -> str:
    return f"sqlite+aiosqlite:///{directory.rstrip('/')}/egov-bot.sqlite3"


class TicketStore:
    """Citizens, tickets and the question log. Each method owns its session and transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> "TicketStore":
        try:
            return cls(create_async_engine(url, pool_pre_ping=True))
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise StoreError(f"the database URL {url!r} is not usable ({type(error).__name__}): "
                             "use e.g. sqlite+aiosqlite:///egov-bot.sqlite3") from None

    async def create_schema(self) -> None:
        try:
            async with self._engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
        except (DBAPIError, OSError) as error:
            reason = " ".join(str(getattr(error, "orig", error)).split())
            raise StoreError(f"cannot open the database {self._engine.url.render_as_string()}: {reason}") from None

    async def close(self) -> None:
        await self._engine.dispose()

    async def citizen(self, channel: str, external_id: str, *, language: str = "ru", first_name: str = "") -> Citizen:
        """The citizen on this channel, created on first contact."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(CitizenRow).where(CitizenRow.channel == channel, CitizenRow.external_id == external_id)
            )
            if row is None:
                row = CitizenRow(channel=channel, external_id=external_id, language=language, first_name=first_name[:128])
                session.add(row)
                await session.flush()
            return _citizen(row)

    async def log_question(self, citizen_id: int | None, question: str, lang: str, decision: str,
                           entry_id: str | None, score: float) -> None:
        async with self._sessions.begin() as session:
            session.add(QuestionRow(citizen_id=citizen_id, question=question, lang=lang, decision=decision,
                                    entry_id=entry_id, score=score))

    async def open_ticket(self, citizen_id: int, question: str, lang: str, *, kind: str = "unmatched",
                          entry_id: str | None = None, step: int | None = None,
                          candidates: list[dict] | None = None) -> Ticket:
        async with self._sessions.begin() as session:
            row = TicketRow(citizen_id=citizen_id, question=question, lang=lang, kind=kind, entry_id=entry_id,
                            step=step, candidates=json.dumps(candidates or [], ensure_ascii=False))
            session.add(row)
            await session.flush()
            session.add(TicketMessageRow(ticket_id=row.id, direction="citizen", text=question, delivered=False))
            await session.flush()
            return _ticket(row)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        async with self._sessions.begin() as session:
            row = await session.get(TicketRow, ticket_id)
            return _ticket(row) if row else None

    async def open_tickets(self) -> list[Ticket]:
        """Tickets waiting for a librarian, oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.status.in_(("open", "taken"))).order_by(TicketRow.created_at, TicketRow.id)
            )
            return [_ticket(row) for row in rows]

    async def count_questions(self) -> int:
        async with self._sessions.begin() as session:
            return int(await session.scalar(select(func.count(QuestionRow.id))) or 0)
