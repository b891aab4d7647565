"""Citizens: found or created on every message, their settings, blocking the bot, and /forget."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select, update

from bot.domain import FORGOTTEN, OPEN_STATUSES, Awaiting, Channel, Citizen, Direction, Forgotten, Ticket, TicketStatus, utcnow
from bot.storage.database import Database
from bot.storage.group_commit import Batched
from bot.storage.schema import (CitizenRow, DraftRow, FeedbackRow, ProcessedUpdateRow, QuestionRow, SuggestedVariantRow,
                                TicketMessageRow, TicketRow, as_citizen, as_ticket)

CitizenKey = tuple[str, str, str, str]  # channel, external id, language on first contact, first name


async def known_citizens(connection, keys: list[CitizenKey]) -> dict[CitizenKey, Citizen]:
    """Known citizens with nothing to change, read in one query per channel; the others (new, renamed,
    back after blocking the bot) are missing from the answer: Citizens.get deals with them.
    Plain rows, on a connection: this runs for every message."""
    rows = {}
    by_channel: dict[str, set[str]] = defaultdict(set)
    for channel, external_id, _, _ in keys:
        by_channel[channel].add(external_id)
    table = CitizenRow.__table__
    for channel, ids in by_channel.items():
        found = await connection.execute(
            select(table).where(table.c.channel == channel, table.c.external_id.in_(ids)))
        rows.update(((row.channel, row.external_id), row) for row in found)
    known = {}
    for key in keys:
        row = rows.get(key[:2])
        if row is not None and not row.blocked and (not key[3] or row.first_name == key[3]):
            known[key] = as_citizen(row)
    return known


class Citizens:
    """Each method owns its session; get() is batched with the calls made at the same time (see Batched)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions
        self._batched = Batched(self._find)

    async def get(self, channel: Channel, external_id: str, *, language: str = "ru", first_name: str = "") -> Citizen:
        """The citizen on this channel, created on first contact (the first name kept current)."""
        return await self._batched((channel, external_id, language, first_name[:128]))

    async def _find(self, keys: list[CitizenKey]) -> list[Citizen]:
        async with self._database.engine.begin() as connection:
            found = await known_citizens(connection, keys)
        return [found.get(key) or await self._get_one(*key) for key in keys]

    async def _get_one(self, channel: str, external_id: str, language: str, first_name: str) -> Citizen:
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
            return as_citizen(row)

    async def by_id(self, citizen_id: int) -> Citizen | None:
        async with self._sessions.begin() as session:
            row = await session.get(CitizenRow, citizen_id)
            return as_citizen(row) if row else None

    async def warn_private_once(self, citizen_id: int) -> bool:
        """True the first time only: the citizen is to be told not to send personal numbers."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(CitizenRow).where(CitizenRow.id == citizen_id, CitizenRow.warned_private.is_(False))
                .values(warned_private=True)
            )
            return result.rowcount == 1

    async def set_language(self, citizen_id: int, language: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(CitizenRow).where(CitizenRow.id == citizen_id).values(language=language))

    async def set_awaiting(self, citizen_id: int, what: Awaiting | None) -> None:
        """Remember what the bot asked the citizen for (None: nothing)."""
        async with self._sessions.begin() as session:
            await session.execute(update(CitizenRow).where(CitizenRow.id == citizen_id)
                                  .values(awaiting=what, awaiting_at=utcnow() if what else None))

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
                       TicketMessageRow.direction == Direction.LIBRARIAN, TicketMessageRow.delivered.is_(False))
                .values(failed=True)
            )
            return [as_ticket(r) for r in rows]

    async def forget(self, citizen_id: int) -> Forgotten:
        """Delete what a citizen said (question log, their messages, feedback); keep their tickets only
        anonymised, for statistics; withdraw the open ones.

        The chat starts afresh as a new citizen who keeps only the interface language chosen."""
        async with self._sessions.begin() as session:
            tickets = list(await session.scalars(select(TicketRow.id).where(TicketRow.citizen_id == citizen_id)))
            was_open = list(await session.scalars(select(TicketRow.id).where(
                TicketRow.citizen_id == citizen_id, TicketRow.status.in_(OPEN_STATUSES))))
            await session.execute(delete(QuestionRow).where(QuestionRow.citizen_id == citizen_id))
            await session.execute(delete(FeedbackRow).where(FeedbackRow.citizen_id == citizen_id))
            if tickets:
                await session.execute(delete(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(tickets)))
                await session.execute(update(DraftRow).where(DraftRow.ticket_id.in_(tickets)).values(question=FORGOTTEN))
                await session.execute(delete(SuggestedVariantRow).where(SuggestedVariantRow.ticket_id.in_(tickets)))
                await session.execute(
                    update(TicketRow).where(TicketRow.id.in_(tickets), TicketRow.status.in_(OPEN_STATUSES))
                    .values(status=TicketStatus.WITHDRAWN, closed_at=utcnow(), closed_by="citizen", notice=None)
                )
                await session.execute(update(TicketRow).where(TicketRow.id.in_(tickets)).values(question=FORGOTTEN))
            citizen = await session.get(CitizenRow, citizen_id)
            if citizen is not None and citizen.external_id.lstrip("-").isdigit():  # updates not yet handled
                await session.execute(update(ProcessedUpdateRow).where(ProcessedUpdateRow.chat_id == int(citizen.external_id))
                                      .values(payload=None))
            if citizen is not None and citizen.channel != Channel.FORGOTTEN:
                channel, external_id, language = citizen.channel, citizen.external_id, citizen.language
                await session.execute(
                    update(CitizenRow).where(CitizenRow.id == citizen_id)
                    .values(first_name="", external_id=f"forgotten-{citizen_id}", channel=Channel.FORGOTTEN,
                            awaiting=None)
                )
                await session.flush()
                session.add(CitizenRow(channel=channel, external_id=external_id, language=language))
            return Forgotten(tickets, was_open)
