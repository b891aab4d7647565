"""Reminders and out-of-hours digests for the librarians' group: what the reminder pass of delivery sends.

Each reminder is a row keyed by what it is about ("take:12"), inserted by the instance that sends it, with a
lease: of two instances only one inserts it, and one that dies before marking it done leaves it to be taken
over when the lease ends (so a kill loses nothing; a reminder due while no instance ran is sent after the
start). A digest is a row keyed by its opening ("digest@2026-12-07T04:00") made in one transaction with a
row per ticket it lists ("digest:12", batch = its key): one digest per opening, whoever makes it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import or_, select, update

from bot.domain import (OPEN_STATUSES, ReminderKind, ReminderState, Ticket, TicketStatus, TicketTimes, Waiting,
                        utcnow)
from bot.storage.database import Database
from bot.storage.schema import ReminderRow, TicketRow, as_ticket

LEASE_SECONDS = 60.0  # how long an instance may take to send what it claimed before another takes it over


def _free(now: dt.datetime):
    return or_(ReminderRow.lease_until.is_(None), ReminderRow.lease_until < now)


def _state(row: ReminderRow) -> ReminderState:
    return ReminderState(row.key, ReminderKind(row.kind), row.done, row.lease_until, row.attempts, row.batch)


class Reminders:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions

    async def waiting(self) -> list[Waiting]:
        """Open tickets whose card is in the group, oldest first, with the reminders stored for them: the one
        query of a reminder pass (the open tickets are the librarians' queue: a few dozen at most)."""
        async with self._sessions.begin() as session:
            rows = (await session.execute(
                select(TicketRow, ReminderRow).outerjoin(ReminderRow, ReminderRow.ticket_id == TicketRow.id)
                .where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.card_message_id.is_not(None))
                .order_by(TicketRow.created_at, TicketRow.id)
            )).all()
        tickets: dict[int, tuple[Ticket, int | None]] = {}
        states: dict[int, dict[ReminderKind, ReminderState]] = defaultdict(dict)
        for ticket_row, reminder in rows:
            tickets.setdefault(ticket_row.id, (as_ticket(ticket_row), ticket_row.taken_by_id))
            if reminder is not None:
                states[ticket_row.id][ReminderKind(reminder.kind)] = _state(reminder)
        return [Waiting(ticket, librarian, states.get(ticket_id, {})) for ticket_id, (ticket, librarian) in tickets.items()]

    async def claim(self, key: str, kind: ReminderKind, ticket_id: int | None, *, now: dt.datetime | None = None,
                    lease: float = LEASE_SECONDS) -> ReminderState | None:
        """Reserve the sending of a reminder for `lease` seconds: the instance that inserts its row, or that takes
        it over once an earlier claim ran out (one atomic UPDATE), has it. None: another has it, or it is done."""
        now = now or utcnow()
        until = now + dt.timedelta(seconds=lease)
        table = ReminderRow.__table__
        async with self._sessions.begin() as session:
            inserted = await session.execute(
                self._database.insert(table).values(key=key, kind=str(kind), ticket_id=ticket_id, done=False,
                                                     lease_until=until, attempts=0, created_at=now)
                .on_conflict_do_nothing(index_elements=[table.c.key]))
            if inserted.rowcount != 1:
                taken = await session.execute(update(ReminderRow).where(
                    ReminderRow.key == key, ReminderRow.done.is_(False), _free(now)).values(lease_until=until))
                if taken.rowcount != 1:
                    return None
            row = await session.get(ReminderRow, key, populate_existing=True)
            return _state(row)

    async def sent(self, key: str, message_id: int | None, *, now: dt.datetime | None = None) -> None:
        """Done: sent as this group message (a digest: its items too)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            await session.execute(update(ReminderRow).where(or_(ReminderRow.key == key, ReminderRow.batch == key))
                                  .values(done=True, sent_at=now, message_id=message_id, lease_until=None))

    async def retry_later(self, key: str, delay: float, *, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        async with self._sessions.begin() as session:
            await session.execute(update(ReminderRow).where(ReminderRow.key == key).values(
                attempts=ReminderRow.attempts + 1, lease_until=now + dt.timedelta(seconds=delay)))

    async def give_up(self, key: str) -> None:
        """No more attempts (a digest: its items too)."""
        async with self._sessions.begin() as session:
            await session.execute(update(ReminderRow).where(or_(ReminderRow.key == key, ReminderRow.batch == key))
                                  .values(done=True, lease_until=None, attempts=ReminderRow.attempts + 1))

    async def compose_digest(self, key: str, ticket_ids: list[int], *, now: dt.datetime | None = None,
                             lease: float = LEASE_SECONDS) -> bool:
        """Make the digest `key` of these tickets and claim its sending, in one transaction: True for the instance
        that made it. Otherwise (another made this opening's digest first) the tickets are marked as left out, so
        that each opening has one digest and a ticket is never listed twice."""
        now = now or utcnow()
        table = ReminderRow.__table__
        insert = self._database.insert(table)
        async with self._sessions.begin() as session:
            made = await session.execute(insert.values(
                key=key, kind=str(ReminderKind.DIGEST), ticket_id=None, done=False, attempts=0, created_at=now,
                lease_until=now + dt.timedelta(seconds=lease)).on_conflict_do_nothing(index_elements=[table.c.key]))
            mine = made.rowcount == 1
            if ticket_ids:
                await session.execute(self._database.insert(table).values([
                    {"key": f"{ReminderKind.DIGEST}:{ticket_id}", "kind": str(ReminderKind.DIGEST), "ticket_id": ticket_id,
                     "batch": key if mine else None, "done": not mine, "attempts": 0, "created_at": now}
                    for ticket_id in ticket_ids]).on_conflict_do_nothing(index_elements=[table.c.key]))
            return mine

    async def digest_tickets(self, key: str) -> list[Ticket]:
        """The still open tickets listed in the digest `key`, oldest first."""
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(TicketRow).join(ReminderRow, ReminderRow.ticket_id == TicketRow.id)
                .where(ReminderRow.batch == key, TicketRow.status == TicketStatus.OPEN)
                .order_by(TicketRow.created_at, TicketRow.id))
            return [as_ticket(row) for row in rows]

    async def ticket_times(self, since: dt.datetime) -> list[TicketTimes]:
        """When each ticket opened since `since` arrived, was first answered and closed (`egov-bot stats`)."""
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketRow.created_at, TicketRow.first_reply_at, TicketRow.closed_at, TicketRow.status)
                .where(TicketRow.created_at >= since, TicketRow.status != TicketStatus.WITHDRAWN))
            return [TicketTimes(created, reply, closed if status == TicketStatus.CLOSED else None)
                    for created, reply, closed, status in rows]
