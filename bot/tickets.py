"""The librarian queue, the question log, feedback and drafts on SQLAlchemy 2 (async).

The only module that imports SQLAlchemy. Everything needed to route a reply is stored here (which
group message belongs to which ticket, what is still to be delivered), so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Generic, TypeVar

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, and_, delete, event, func, insert, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

OPEN_STATUSES = ("open", "taken")
INITIAL_REVISION = "0001"  # the schema as of the first release with migrations
FLOOD_WINDOW = dt.timedelta(seconds=60)  # flood control counts a citizen's messages over this time
LEASE_SECONDS = 60.0  # how long an instance may take to deliver what it claimed before another retries
FORGOTTEN = "[удалено по просьбе жителя]"
AWAIT_WINDOW = dt.timedelta(minutes=10)  # how long the bot waits for what it asked for (a town after /where)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def alembic_config(connection):
    """Alembic's configuration for bot/migrations, working on this (synchronous) connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def _sqlite_settings(connection, _record) -> None:
    """Write-ahead log: readers never wait for the writer, and a commit needs no disk flush (a kill -9
    loses nothing; only a power cut can lose the last commits). Wait up to 5 s for a busy database."""
    cursor = connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


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
    blocked: Mapped[bool] = mapped_column(default=False)      # the citizen blocked the bot
    warned_private: Mapped[bool] = mapped_column(default=False)  # told once not to send ИИН, card numbers ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    awaiting: Mapped[str | None] = mapped_column(String(16), default=None)  # what the bot asked for: "town" after /where
    awaiting_at: Mapped[dt.datetime | None] = mapped_column(default=None)


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
    taken_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # Telegram ids exceed 32 bits
    taken_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    rating: Mapped[int | None] = mapped_column(default=None)
    card_message_id: Mapped[int | None] = mapped_column(default=None, index=True)
    card_lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)  # an instance is posting the card
    citizen_blocked: Mapped[bool] = mapped_column(default=False)
    notice: Mapped[str | None] = mapped_column(String(32), default=None)  # a citizen notice still to send: "closed"


class TicketMessageRow(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # "citizen" (to the group) or "librarian" (to the citizen)
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[str | None] = mapped_column(String(16), default=None)  # photo, document, voice ...: copied as is
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # where the original message is
    source_message_id: Mapped[int | None] = mapped_column(default=None)
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered: Mapped[bool] = mapped_column(default=False)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    failed: Mapped[bool] = mapped_column(default=False)  # given up: the citizen blocked the bot
    group_message_id: Mapped[int | None] = mapped_column(default=None, index=True)  # its message in the group
    in_reply_to: Mapped[int | None] = mapped_column(default=None)  # a librarian's reply: the group message it answered


class GroupMessageRow(Base):
    """Every message the bot posted in the librarians' group for a ticket: a card or a relayed message split
    into several Telegram messages has one row per piece, so a reply to any piece reaches the ticket."""

    __tablename__ = "group_messages"

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    is_card: Mapped[bool] = mapped_column(default=False)  # the card or its continuation


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    entry_id: Mapped[str] = mapped_column(String(80))
    helpful: Mapped[bool] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    lang: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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


class ProcessedUpdateRow(Base):
    """Telegram update ids already handled: a webhook retry or a second instance must not act twice.

    The citizen's chat is kept too (for two days), so that flood control counts a citizen's messages
    over every instance. The update itself is kept until its handling finishes: an update cut short by a
    kill is handled again by the restarted process (Telegram will not send it again: getUpdates confirmed
    it as soon as it arrived)."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_chat_time", "chat_id", "created_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    owner: Mapped[str | None] = mapped_column(String(32), default=None)  # the instance handling it
    finished: Mapped[bool] = mapped_column(default=False)  # its handling ran to the end
    payload: Mapped[str | None] = mapped_column(Text, default=None)  # the update as received, until finished
    counted: Mapped[bool] = mapped_column(default=True, server_default=true())  # flood control counts it (buttons: no)


class InstanceRow(Base):
    """Running bot processes: each writes down every few seconds that it is alive. The unfinished updates of
    one that fell silent are taken over by the others."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Citizen:
    id: int
    channel: str
    external_id: str
    language: str
    first_name: str
    blocked: bool = False
    awaiting: str | None = None  # what the bot asked this citizen for and still waits for ("town")


CitizenKey = tuple[str, str, str, str]  # channel, external id, language on first contact, first name


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
    taken_at: dt.datetime | None = None
    first_reply_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    rating: int | None = None
    card_message_id: int | None = None
    citizen_blocked: bool = False
    notice: str | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    direction: str
    text: str
    media: str | None
    source_chat_id: int | None
    source_message_id: int | None
    author: str
    created_at: dt.datetime
    delivered: bool
    attempts: int
    group_message_id: int | None
    in_reply_to: int | None = None


@dataclass(frozen=True)
class Draft:
    id: int
    ticket_id: int
    lang: str
    question: str
    answer: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Admission:
    """A new update: how many the chat sent in the last minute, and for a citizen, who and what is open."""

    seen: int
    citizen: Citizen | None
    open_tickets: list[Ticket]


@dataclass(frozen=True)
class TakeResult:
    ticket: Ticket | None
    taken: bool  # True: this librarian has it now; False: someone else has it (ticket.taken_by) or it is closed


def _ticket(row: TicketRow) -> Ticket:
    return Ticket(
        row.id, row.citizen_id, row.status, row.kind, row.lang, row.question, row.entry_id, row.step,
        json.loads(row.candidates or "[]"), row.created_at, row.taken_by, row.taken_at, row.first_reply_at,
        row.closed_at, row.rating, row.card_message_id, row.citizen_blocked, row.notice, row.closed_by,
    )


def _citizen(row: CitizenRow) -> Citizen:
    awaiting = row.awaiting if row.awaiting_at is not None and utcnow() - row.awaiting_at < AWAIT_WINDOW else None
    return Citizen(row.id, row.channel, row.external_id, row.language, row.first_name, row.blocked, awaiting)


def _message(row: TicketMessageRow) -> TicketMessage:
    return TicketMessage(
        row.id, row.ticket_id, row.direction, row.text, row.media, row.source_chat_id, row.source_message_id,
        row.author, row.created_at, row.delivered, row.attempts, row.group_message_id, row.in_reply_to,
    )


def default_database_url(directory: str = ".") -> str:
    return f"sqlite+aiosqlite:///{directory.rstrip('/')}/egov-bot.sqlite3"


Item = TypeVar("Item")
Result = TypeVar("Result")
BATCH_LIMIT = 200  # calls served by one transaction at most


class _Batched(Generic[Item, Result]):
    """Group commit: calls that arrive while a batch is in the database wait and go together in the next.

    Alone, a call costs one transaction, as before. Under load (many citizens at once) one transaction
    serves all the calls that queued meanwhile. `run` gets the items and returns one result for each, in
    order; if it raises, every caller of that batch gets the error.
    """

    def __init__(self, run: Callable[[list[Item]], Awaitable[list[Result]]]) -> None:
        self._run = run
        self._queue: list[tuple[Item, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None

    async def __call__(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._worker.get_loop() is not loop:  # a new event loop (tests, CLI)
            self._queue, self._worker = [], None
        future = loop.create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # calls made in this turn of the event loop join the first batch
        while self._queue:
            batch, self._queue = self._queue[:BATCH_LIMIT], self._queue[BATCH_LIMIT:]
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 - it belongs to the callers: each of them gets it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            except BaseException:  # cancelled (the bot is stopping): nobody may wait for ever
                for _, future in batch + self._queue:
                    future.cancel()
                raise
            else:
                for (_, future), result in zip(batch, results):
                    if not future.done():
                        future.set_result(result)


class TicketStore:
    """Citizens, tickets, their messages, feedback, drafts and the question log.

    Each method owns its session and transaction. What every message needs is batched (see _Batched):
    intake() (the update id, the flood count, the citizen and their open tickets in one transaction), the
    question log and finish(); so are citizen() and open_tickets_of() when called on their own.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.instance = uuid.uuid4().hex[:16]  # this process, as the owner of the updates it handles
        self._in_hand: set[int] = set()  # update ids admitted here and not finished yet
        self._intake = _Batched(self._take_in)
        self._finished = _Batched(self._finish_updates)
        self._citizens = _Batched(self._find_citizens)
        self._open_tickets = _Batched(self._open_tickets_of_many)
        self._questions = _Batched(self._log_questions)

    def _insert(self, table):
        """INSERT with ON CONFLICT support, in this database's dialect."""
        return (postgresql_insert if self._engine.dialect.name == "postgresql" else sqlite_insert)(table)

    @classmethod
    def from_url(cls, url: str) -> "TicketStore":
        """hide_parameters: a database error in the logs never carries what a citizen wrote."""
        try:
            if make_url(url).get_backend_name() == "sqlite":
                # One connection: SQLite has one writer anyway, and transactions that read and then write
                # could otherwise fail with "database is locked" when handlers run concurrently.
                engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60, hide_parameters=True)
                event.listen(engine.sync_engine, "connect", _sqlite_settings)
            else:  # a server can restart: each connection is checked before use
                engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
            return cls(engine)
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise StoreError(f"the database URL {url!r} is not usable ({type(error).__name__}): "
                             "use e.g. sqlite+aiosqlite:///egov-bot.sqlite3") from None

    async def create_schema(self) -> None:
        """The tables straight from the models, marked as the newest migration (tests and throw-away databases)."""
        from alembic import command

        def run(connection) -> None:
            Base.metadata.create_all(connection)
            command.stamp(alembic_config(connection), "head")

        try:
            async with self._engine.begin() as connection:
                await connection.run_sync(run)
        except (DBAPIError, OSError) as error:
            reason = " ".join(str(getattr(error, "orig", error)).split())
            raise StoreError(f"cannot open the database {self._engine.url.render_as_string()}: {reason}") from None

    async def upgrade(self) -> None:
        """Bring the database schema up to date with the Alembic migrations in bot/migrations.

        A database made before migrations existed (its tables were created directly) is first marked
        as being at the initial revision, so that nothing in it is recreated or lost.
        """
        from alembic import command
        from sqlalchemy import inspect

        def run(connection) -> None:
            if connection.dialect.name == "postgresql":
                # Instances starting together on a new database: one migrates, the others wait for it.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(420250)")
            config = alembic_config(connection)
            tables = set(inspect(connection).get_table_names())
            if "tickets" in tables and "alembic_version" not in tables:
                command.stamp(config, INITIAL_REVISION)
            command.upgrade(config, "head")

        try:
            async with self._engine.begin() as connection:
                await connection.run_sync(run)
        except (DBAPIError, OSError) as error:
            reason = " ".join(str(getattr(error, "orig", error)).split())
            raise StoreError(f"cannot upgrade the database {self._engine.url.render_as_string()}: {reason}") from None

    async def dispose(self) -> None:
        await self._engine.dispose()

    # --- citizens -------------------------------------------------------------------------------

    async def citizen(self, channel: str, external_id: str, *, language: str = "ru", first_name: str = "") -> Citizen:
        """The citizen on this channel, created on first contact (the first name kept current)."""
        return await self._citizens((channel, external_id, language, first_name[:128]))

    async def _find_citizens(self, keys: list[CitizenKey]) -> list[Citizen]:
        async with self._sessions.begin() as session:
            found = await self._known_citizens(session, keys)
        return [found.get(key) or await self._citizen_one(*key) for key in keys]

    @staticmethod
    async def _known_citizens(session, keys: list[CitizenKey]) -> dict[CitizenKey, Citizen]:
        """Known citizens with nothing to change, read in one query per channel; the others (new, renamed,
        back after blocking the bot) are missing from the answer: _citizen_one deals with them."""
        rows: dict[tuple[str, str], CitizenRow] = {}
        by_channel: dict[str, set[str]] = defaultdict(set)
        for channel, external_id, _, _ in keys:
            by_channel[channel].add(external_id)
        for channel, ids in by_channel.items():
            found = await session.scalars(
                select(CitizenRow).where(CitizenRow.channel == channel, CitizenRow.external_id.in_(ids)))
            rows.update(((row.channel, row.external_id), row) for row in found)
        known = {}
        for key in keys:
            row = rows.get(key[:2])
            if row is not None and not row.blocked and (not key[3] or row.first_name == key[3]):
                known[key] = _citizen(row)
        return known

    async def _citizen_one(self, channel: str, external_id: str, language: str, first_name: str) -> Citizen:
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(CitizenRow).where(CitizenRow.channel == channel, CitizenRow.external_id == external_id)
            )
            if row is None:
                row = CitizenRow(channel=channel, external_id=external_id, language=language, first_name=first_name[:128])
                session.add(row)
                await session.flush()
            else:
                if first_name and row.first_name != first_name[:128]:
                    row.first_name = first_name[:128]
                if row.blocked:
                    # They write to us again: they unblocked the bot. What was not delivered goes out now.
                    row.blocked = False
                    tickets = list(await session.scalars(
                        select(TicketRow.id).where(TicketRow.citizen_id == row.id, TicketRow.citizen_blocked.is_(True))))
                    await session.execute(update(TicketRow).where(TicketRow.id.in_(tickets or [-1])).values(citizen_blocked=False))
                    await session.execute(
                        update(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(tickets or [-1]),
                                                       TicketMessageRow.failed.is_(True))
                        .values(failed=False, next_attempt_at=utcnow()))
            return _citizen(row)

    async def citizen_by_id(self, citizen_id: int) -> Citizen | None:
        async with self._sessions.begin() as session:
            row = await session.get(CitizenRow, citizen_id)
            return _citizen(row) if row else None

    async def warn_private_once(self, citizen_id: int) -> bool:
        """True the first time only: the citizen is to be told not to send personal numbers."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(CitizenRow).where(CitizenRow.id == citizen_id, CitizenRow.warned_private.is_(False))
                .values(warned_private=True)
            )
            return result.rowcount == 1

    async def forget(self, citizen_id: int) -> int:
        """Delete what a citizen said (question log, their messages, feedback); keep their tickets only
        anonymised, for statistics; withdraw the open ones. Returns how many tickets were anonymised.

        The chat starts afresh as a new citizen who keeps only the interface language chosen."""
        return len((await self.forget_citizen(citizen_id))[0])

    async def forget_citizen(self, citizen_id: int) -> tuple[list[int], list[int]]:
        """forget(): the ids of every anonymised ticket, and of those that were open (their cards to redraw)."""
        async with self._sessions.begin() as session:
            tickets = list(await session.scalars(select(TicketRow.id).where(TicketRow.citizen_id == citizen_id)))
            was_open = list(await session.scalars(select(TicketRow.id).where(
                TicketRow.citizen_id == citizen_id, TicketRow.status.in_(OPEN_STATUSES))))
            await session.execute(delete(QuestionRow).where(QuestionRow.citizen_id == citizen_id))
            await session.execute(delete(FeedbackRow).where(FeedbackRow.citizen_id == citizen_id))
            if tickets:
                await session.execute(delete(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(tickets)))
                await session.execute(update(DraftRow).where(DraftRow.ticket_id.in_(tickets)).values(question=FORGOTTEN))
                await session.execute(
                    update(TicketRow).where(TicketRow.id.in_(tickets), TicketRow.status.in_(OPEN_STATUSES))
                    .values(status="withdrawn", closed_at=utcnow(), closed_by="citizen", notice=None)
                )
                await session.execute(update(TicketRow).where(TicketRow.id.in_(tickets)).values(question=FORGOTTEN))
            citizen = await session.get(CitizenRow, citizen_id)
            if citizen is not None and citizen.external_id.lstrip("-").isdigit():  # updates not yet handled
                await session.execute(update(ProcessedUpdateRow).where(ProcessedUpdateRow.chat_id == int(citizen.external_id))
                                      .values(payload=None))
            if citizen is not None and citizen.channel != "forgotten":
                channel, external_id, language = citizen.channel, citizen.external_id, citizen.language
                await session.execute(
                    update(CitizenRow).where(CitizenRow.id == citizen_id)
                    .values(first_name="", external_id=f"forgotten-{citizen_id}", channel="forgotten", awaiting=None)
                )
                await session.flush()
                session.add(CitizenRow(channel=channel, external_id=external_id, language=language))
            return tickets, was_open

    async def admit(self, update_id: int, chat_id: int | None = None, *, take_over_after: float | None = None,
                    payload: str | None = None, counted: bool = True) -> int | None:
        """Record an update; None when it was recorded before (a duplicate: do not handle it again).

        Otherwise: how many updates this chat sent in the last minute, this one included, as every
        instance recorded them (0 without a chat). Flood control reads it.

        take_over_after: an update another process recorded but never finished is handled here when that
        process has been silent (no heartbeat()) for this many seconds; 0: whatever the other process does
        (polling: only one process receives updates at a time, so the other one was stopped mid-way);
        None: never.
        payload: the update as received, kept until finish() so that unfinished() can give it back.
        counted: False for what flood control leaves out (button presses: the buttons themselves bound them).
        """
        admission = await self._intake((update_id, chat_id, take_over_after, None, payload, counted))
        return admission.seen if admission else None

    async def intake(self, update_id: int, chat_id: int, channel: str, external_id: str, *, language: str = "ru",
                     first_name: str = "", take_over_after: float | None = None,
                     payload: str | None = None, counted: bool = True) -> "Admission | None":
        """admit() and, in the same transaction, the citizen and their open tickets: what every citizen's
        message needs first, in one round trip. The citizen is None when the row is to be created or changed
        (first contact, a new first name, back after blocking the bot): citizen() does that."""
        return await self._intake((update_id, chat_id, take_over_after,
                                   (channel, external_id, language, first_name[:128]), payload, counted))

    async def finish(self, update_id: int) -> None:
        """The update's handling ran to the end: after a restart it counts as a duplicate.

        Only for updates this process admitted: a duplicate it turned away may still be in other hands."""
        if update_id in self._in_hand:
            self._in_hand.discard(update_id)
            await self._finished(update_id)

    async def _finish_updates(self, update_ids: list[int]) -> list[None]:
        async with self._sessions.begin() as session:
            await session.execute(update(ProcessedUpdateRow).where(ProcessedUpdateRow.update_id.in_(set(update_ids)))
                                  .values(finished=True, payload=None))
        return [None] * len(update_ids)

    async def unfinished(self, silent_for: float = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """Updates other processes recorded and never finished, oldest first, as (update id, payload): those
        processes were killed, or have been silent for `silent_for` seconds. Only the last two days count."""
        table = ProcessedUpdateRow.__table__
        now = utcnow()
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(table.c.update_id, table.c.payload)
                .where(table.c.finished.is_(False), table.c.payload.is_not(None),
                       self._others_silent_for(table.c.owner, silent_for, now),
                       table.c.created_at > now - dt.timedelta(days=2))
                .order_by(table.c.update_id).limit(limit))
            return [(update_id, payload) for update_id, payload in rows]

    def _others_silent_for(self, owner, seconds: float, now: dt.datetime):
        """The owner is another process, and (seconds > 0) it has not written a heartbeat for that long."""
        other = or_(owner.is_(None), owner != self.instance)
        if seconds <= 0:
            return other
        alive = select(InstanceRow.id).where(InstanceRow.seen_at > now - dt.timedelta(seconds=seconds))
        return and_(other, or_(owner.is_(None), owner.not_in(alive)))

    async def heartbeat(self) -> None:
        """This process is alive: its unfinished updates stay its own."""
        table = InstanceRow.__table__
        now = utcnow()
        async with self._sessions.begin() as session:
            await session.execute(self._insert(table).values(id=self.instance, seen_at=now)
                                  .on_conflict_do_update(index_elements=[table.c.id], set_={"seen_at": now}))

    async def _take_in(self, items: list[tuple[int, int | None, float | None, CitizenKey | None, str | None, bool]]
                       ) -> list["Admission | None"]:
        async with self._sessions.begin() as session:
            seen = await self._record_updates(session, [(u, c, t, p, n) for u, c, t, _, p, n in items])
            keys = [item[3] for item, count in zip(items, seen) if item[3] is not None and count is not None]
            citizens = await self._known_citizens(session, keys) if keys else {}
            tickets = await self._open_tickets_in(session, [c.id for c in citizens.values()])
        self._in_hand.update(item[0] for item, count in zip(items, seen) if count is not None)
        admissions: list[Admission | None] = []
        for (_, _, _, key, _, _), count in zip(items, seen):
            if count is None:
                admissions.append(None)
            elif key in citizens:
                admissions.append(Admission(count, citizens[key], list(tickets.get(citizens[key].id, []))))
            else:  # no citizen asked for, or one to create or change: left to citizen() when a handler needs it
                admissions.append(Admission(count, None, []))
        return admissions

    async def _record_updates(self, session, updates: list[tuple[int, int | None, float | None, str | None, bool]]
                              ) -> list[int | None]:
        table = ProcessedUpdateRow.__table__
        unique = {u: (c, p, n) for u, c, _, p, n in updates[::-1]}  # update id -> (chat, payload, counted) of its first call
        now = utcnow()
        recorded = set(await session.scalars(
            self._insert(table).values([{"update_id": u, "chat_id": c, "created_at": now, "owner": self.instance,
                                         "finished": False, "payload": p, "counted": n}
                                        for u, (c, p, n) in unique.items()])
            .on_conflict_do_nothing(index_elements=[table.c.update_id]).returning(table.c.update_id)))
        for update_id, after in {u: a for u, _, a, _, _ in updates if a is not None and u not in recorded}.items():
            taken = await session.execute(
                update(table).where(table.c.update_id == update_id, table.c.finished.is_(False),
                                    self._others_silent_for(table.c.owner, after, now))
                .values(owner=self.instance))
            if taken.rowcount == 1:
                recorded.add(update_id)
        chats = {chat for update_id, (chat, _, _) in unique.items() if update_id in recorded and chat is not None}
        counts: dict[int, int] = {}
        if chats:
            counts = dict((await session.execute(
                select(table.c.chat_id, func.count()).where(table.c.chat_id.in_(chats), table.c.counted.is_(True),
                                                            table.c.created_at > now - FLOOD_WINDOW)
                .group_by(table.c.chat_id))).all())
        new = []  # per call: is it the one that recorded its id (the same id twice in a batch: the first)
        for update_id, *_ in updates:
            new.append(update_id in recorded)
            recorded.discard(update_id)
        later = defaultdict(int)  # a chat's updates in this batch are counted in order: its first sees the fewest
        for (_, chat, _, _, counted), is_new in zip(updates, new):
            if is_new and chat is not None and counted:
                later[chat] += 1
        results: list[int | None] = []
        for (_, chat, _, _, counted), is_new in zip(updates, new):
            if not is_new:
                results.append(None)
            elif chat is None or not counted:
                results.append(0)
            else:
                later[chat] -= 1
                results.append(counts.get(chat, 0) - later[chat])
        return results

    async def purge_updates(self, older_than: dt.datetime) -> None:
        """Forget recorded updates, and instances silent, from before that moment."""
        async with self._sessions.begin() as session:
            await session.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.created_at < older_than))
            await session.execute(delete(InstanceRow).where(InstanceRow.seen_at < older_than))

    async def purge_questions(self, older_than: dt.datetime) -> int:
        """Delete question-log rows older than the given moment; how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(QuestionRow).where(QuestionRow.created_at < older_than))
            return result.rowcount or 0

    async def set_language(self, citizen_id: int, language: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(CitizenRow).where(CitizenRow.id == citizen_id).values(language=language))

    async def mark_blocked(self, citizen_id: int) -> list[Ticket]:
        """The citizen blocked the bot: mark them and their open tickets; return those tickets."""
        async with self._sessions.begin() as session:
            await session.execute(update(CitizenRow).where(CitizenRow.id == citizen_id).values(blocked=True))
            rows = list(await session.scalars(
                select(TicketRow).where(TicketRow.citizen_id == citizen_id, TicketRow.status.in_(OPEN_STATUSES))
            ))
            for row in rows:
                row.citizen_blocked = True
            await session.execute(
                update(TicketMessageRow)
                .where(TicketMessageRow.ticket_id.in_([r.id for r in rows] or [-1]),
                       TicketMessageRow.direction == "librarian", TicketMessageRow.delivered.is_(False))
                .values(failed=True)
            )
            return [_ticket(r) for r in rows]

    # --- the question log and feedback ----------------------------------------------------------

    async def log_question(self, citizen_id: int | None, question: str, lang: str, decision: str,
                           entry_id: str | None, score: float) -> None:
        await self._questions({"citizen_id": citizen_id, "question": question, "lang": lang, "decision": decision,
                               "entry_id": entry_id, "score": score, "created_at": utcnow()})

    async def _log_questions(self, rows: list[dict]) -> list[None]:
        async with self._sessions.begin() as session:
            await session.execute(insert(QuestionRow), rows)
        return [None] * len(rows)

    async def count_questions(self) -> int:
        async with self._sessions.begin() as session:
            return int(await session.scalar(select(func.count(QuestionRow.id))) or 0)

    async def add_feedback(self, citizen_id: int, entry_id: str, helpful: bool) -> None:
        async with self._sessions.begin() as session:
            session.add(FeedbackRow(citizen_id=citizen_id, entry_id=entry_id, helpful=helpful))

    # --- tickets --------------------------------------------------------------------------------

    async def open_ticket(self, citizen_id: int, question: str, lang: str, *, kind: str = "unmatched",
                          entry_id: str | None = None, step: int | None = None,
                          candidates: list[dict] | None = None) -> Ticket:
        async with self._sessions.begin() as session:
            row = TicketRow(citizen_id=citizen_id, question=question, lang=lang, kind=kind, entry_id=entry_id,
                            step=step, candidates=json.dumps(candidates or [], ensure_ascii=False))
            session.add(row)
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
                select(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES)).order_by(TicketRow.created_at, TicketRow.id)
            )
            return [_ticket(row) for row in rows]

    async def open_tickets_of(self, citizen_id: int) -> list[Ticket]:
        """The citizen's open tickets, oldest first."""
        return await self._open_tickets(citizen_id)

    async def _open_tickets_of_many(self, citizen_ids: list[int]) -> list[list[Ticket]]:
        async with self._sessions.begin() as session:
            tickets = await self._open_tickets_in(session, citizen_ids)
        return [list(tickets.get(citizen_id, [])) for citizen_id in citizen_ids]

    @staticmethod
    async def _open_tickets_in(session, citizen_ids: list[int]) -> dict[int, list[Ticket]]:
        tickets: dict[int, list[Ticket]] = defaultdict(list)
        if citizen_ids:
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.citizen_id.in_(set(citizen_ids)), TicketRow.status.in_(OPEN_STATUSES))
                .order_by(TicketRow.created_at, TicketRow.id)
            )
            for row in rows:
                tickets[row.citizen_id].append(_ticket(row))
        return tickets

    async def cards_to_post(self) -> list[Ticket]:
        """Open tickets whose card is not yet in the librarians' group (and nobody is posting it)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.card_message_id.is_(None),
                                        or_(TicketRow.card_lease_until.is_(None), TicketRow.card_lease_until < now))
                .order_by(TicketRow.id)
            )
            return [_ticket(row) for row in rows]

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

    async def set_card(self, ticket_id: int, message_id: int) -> None:
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
            await session.execute(self._insert(table).values(
                [{"message_id": m, "ticket_id": ticket_id, "is_card": is_card} for m in message_ids])
                .on_conflict_do_nothing(index_elements=[table.c.message_id]))

    async def take(self, ticket_id: int, librarian_id: int, librarian: str) -> TakeResult:
        """Give the ticket to this librarian unless someone already has it: one atomic UPDATE."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == "open")
                .values(status="taken", taken_by=librarian[:128], taken_by_id=librarian_id, taken_at=utcnow())
            )
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            if row is None:
                return TakeResult(None, False)
            taken = result.rowcount == 1 or (row.status == "taken" and row.taken_by_id == librarian_id)
            return TakeResult(_ticket(row), taken)

    async def close_ticket(self, ticket_id: int, by: str, *, status: str = "closed") -> Ticket | None:
        """Close (or withdraw) an open ticket; None when there is no such open ticket."""
        async with self._sessions.begin() as session:
            values = {"status": status, "closed_at": utcnow(), "closed_by": by[:128]}
            if status == "closed":
                values["notice"] = "closed"
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.status.in_(OPEN_STATUSES)).values(**values)
            )
            if result.rowcount != 1:
                return None
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            return _ticket(row)

    async def notices_to_send(self, channel: str = "telegram", citizen_id: int | None = None) -> list[Ticket]:
        """Tickets with a notice for their citizen still to send, of citizens on `channel` (or this citizen)."""
        async with self._sessions.begin() as session:
            query = (select(TicketRow).join(CitizenRow, CitizenRow.id == TicketRow.citizen_id)
                     .where(TicketRow.notice.is_not(None), CitizenRow.channel == channel))
            if citizen_id is not None:
                query = query.where(TicketRow.citizen_id == citizen_id)
            rows = await session.scalars(query.order_by(TicketRow.id))
            return [_ticket(row) for row in rows]

    async def claim_notice(self, ticket_id: int) -> str | None:
        """Take a ticket's pending notice (atomically: one instance sends it); None if another took it."""
        async with self._sessions.begin() as session:
            row = await session.get(TicketRow, ticket_id, populate_existing=True)
            notice = row.notice if row else None
            if notice is None:
                return None
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.notice == notice).values(notice=None))
            return notice if result.rowcount == 1 else None

    async def restore_notice(self, ticket_id: int, notice: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(notice=notice))

    async def rate(self, ticket_id: int, citizen_id: int, rating: int) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.citizen_id == citizen_id,
                                        TicketRow.status == "closed").values(rating=rating)
            )
            return result.rowcount == 1

    # --- ticket messages: both directions, delivered by a background job ------------------------

    async def add_message(self, ticket_id: int, direction: str, text: str, *, author: str = "",
                          media: str | None = None, source_chat_id: int | None = None,
                          source_message_id: int | None = None, group_message_id: int | None = None,
                          delivered: bool = False, in_reply_to: int | None = None) -> TicketMessage:
        """Store a message first; the delivery job sends it (and retries) until it is delivered."""
        async with self._sessions.begin() as session:
            row = TicketMessageRow(ticket_id=ticket_id, direction=direction, text=text, author=author[:128],
                                   media=media, source_chat_id=source_chat_id, source_message_id=source_message_id,
                                   group_message_id=group_message_id, delivered=delivered, in_reply_to=in_reply_to,
                                   delivered_at=utcnow() if delivered else None)
            session.add(row)
            if direction == "librarian":
                await session.execute(
                    update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.first_reply_at.is_(None))
                    .values(first_reply_at=utcnow())
                )
            await session.flush()
            return _message(row)

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketMessageRow).where(TicketMessageRow.ticket_id == ticket_id).order_by(TicketMessageRow.id)
            )
            return [_message(row) for row in rows]

    async def pending_messages(self, now: dt.datetime | None = None, limit: int = 50, *,
                               channel: str = "telegram") -> list[TicketMessage]:
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
                       or_(TicketMessageRow.direction == "citizen", CitizenRow.channel == channel))
                .order_by(TicketMessageRow.id).limit(limit)
            )
            return [_message(row) for row in rows]

    async def answers_for(self, citizen_id: int) -> list[TicketMessage]:
        """Librarians' answers not yet shown to this citizen (the console shows them itself), oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketMessageRow).join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .where(TicketRow.citizen_id == citizen_id, TicketMessageRow.direction == "librarian",
                       TicketMessageRow.delivered.is_(False), TicketMessageRow.failed.is_(False))
                .order_by(TicketMessageRow.id))
            return [_message(row) for row in rows]

    async def give_up(self, message_id: int) -> None:
        """No more delivery attempts for this message (it failed too often)."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketMessageRow).where(TicketMessageRow.id == message_id)
                                  .values(failed=True, attempts=TicketMessageRow.attempts + 1))

    async def last_librarian_message_at(self, ticket_ids: list[int]) -> dict[int, dt.datetime]:
        """When a librarian last wrote on each of these tickets."""
        if not ticket_ids:
            return {}
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketMessageRow.ticket_id, func.max(TicketMessageRow.created_at))
                .where(TicketMessageRow.ticket_id.in_(set(ticket_ids)), TicketMessageRow.direction == "librarian")
                .group_by(TicketMessageRow.ticket_id))
            return {ticket_id: moment for ticket_id, moment in rows}

    async def idle_answered_tickets(self, silent_since: dt.datetime) -> list[Ticket]:
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
                                        last_direction == "librarian")
                .order_by(TicketRow.id))
            return [_ticket(row) for row in rows]

    async def awaiting_rating(self, citizen_id: int, since: dt.datetime) -> Ticket | None:
        """The citizen's latest ticket closed since `since` whose rating prompt was sent and not answered."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(TicketRow).where(TicketRow.citizen_id == citizen_id, TicketRow.status == "closed",
                                        TicketRow.rating.is_(None), TicketRow.notice.is_(None),
                                        TicketRow.closed_at >= since)
                .order_by(TicketRow.closed_at.desc(), TicketRow.id.desc()).limit(1))
            return _ticket(row) if row else None

    async def set_awaiting(self, citizen_id: int, what: str | None) -> None:
        """Remember what the bot asked the citizen for (None: nothing)."""
        async with self._sessions.begin() as session:
            await session.execute(update(CitizenRow).where(CitizenRow.id == citizen_id)
                                  .values(awaiting=what, awaiting_at=utcnow() if what else None))

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

    async def drop_media(self, message_id: int) -> None:
        """Deliver only the text of a message whose attachment Telegram refuses to copy."""
        async with self._sessions.begin() as session:
            await session.execute(update(TicketMessageRow).where(TicketMessageRow.id == message_id).values(media=None))

    async def last_answer(self, ticket_id: int) -> tuple[str, dt.datetime] | None:
        """Who answered the ticket last, and when."""
        async with self._sessions.begin() as session:
            row = (await session.execute(
                select(TicketMessageRow.author, TicketMessageRow.created_at)
                .where(TicketMessageRow.ticket_id == ticket_id, TicketMessageRow.direction == "librarian")
                .order_by(TicketMessageRow.id.desc()).limit(1)
            )).first()
            return (row[0], row[1]) if row else None

    async def ticket_for_group_message(self, message_id: int) -> Ticket | None:
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
            return _ticket(row) if row else None

    # --- drafts ---------------------------------------------------------------------------------

    async def add_draft(self, ticket_id: int, by: str) -> Draft | None:
        """Store the ticket's question and the librarians' answers as a draft entry (once per ticket)."""
        async with self._sessions.begin() as session:
            ticket = await session.get(TicketRow, ticket_id)
            if ticket is None:
                return None
            replies = list(await session.execute(
                select(TicketMessageRow.text, TicketMessageRow.author, TicketMessageRow.in_reply_to)
                .where(TicketMessageRow.ticket_id == ticket_id, TicketMessageRow.direction == "librarian",
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
            return Draft(existing.id, ticket_id, existing.lang, existing.question, existing.answer,
                         existing.created_by, existing.created_at)

    async def drafts(self) -> list[Draft]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(DraftRow).order_by(DraftRow.id))
            return [Draft(r.id, r.ticket_id, r.lang, r.question, r.answer, r.created_by, r.created_at) for r in rows]

    # --- statistics -----------------------------------------------------------------------------

    async def stats_rows(self, since: dt.datetime) -> dict:
        """Raw figures for `egov-bot stats`."""
        async with self._sessions.begin() as session:
            decisions = dict((await session.execute(
                select(QuestionRow.decision, func.count()).where(QuestionRow.created_at >= since)
                .group_by(QuestionRow.decision)
            )).all())
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
                                                   or_(QuestionRow.decision == "escalate",
                                                       QuestionRow.decision == "clarify"))
            ))
            return {
                "decisions": decisions,
                "feedback": feedback,
                "open": int(open_count or 0),
                "waits": [(reply - created).total_seconds() for created, reply in waits],
                "unmatched": unmatched,
            }
