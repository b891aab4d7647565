"""Telegram updates as they come in: recorded once (a duplicate is not handled twice), counted for flood
control over every instance, finished, and taken over from an instance that was killed or fell silent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from sqlalchemy import and_, delete, func, or_, select, update

from bot.domain import Admission, Channel, utcnow
from bot.storage.citizens import CitizenKey, known_citizens
from bot.storage.database import Database
from bot.storage.group_commit import Batched
from bot.storage.schema import InstanceRow, ProcessedUpdateRow
from bot.storage.tickets import open_tickets_in

FLOOD_WINDOW = dt.timedelta(seconds=60)  # flood control counts a citizen's messages over this time
Intake = tuple[int, int | None, float | None, CitizenKey | None, str | None, bool]  # see Updates.intake


class Updates:
    """What every message needs first is batched (see Batched): intake() (the update id, the flood count,
    the citizen and their open tickets in one transaction) and finish()."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._sessions = database.sessions
        self.instance = uuid.uuid4().hex[:16]  # this process, as the owner of the updates it handles
        self._in_hand: set[int] = set()  # update ids admitted here and not finished yet
        self._intake = Batched(self._take_in)
        self._finished = Batched(self._finish_updates)

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

    async def intake(self, update_id: int, chat_id: int, channel: Channel, external_id: str, *, language: str = "ru",
                     first_name: str = "", take_over_after: float | None = None,
                     payload: str | None = None, counted: bool = True) -> Admission | None:
        """admit() and, in the same transaction, the citizen and their open tickets: what every citizen's
        message needs first, in one round trip. The citizen is None when the row is to be created or changed
        (first contact, a new first name, back after blocking the bot): Citizens.get() does that."""
        return await self._intake((update_id, chat_id, take_over_after,
                                   (channel, external_id, language, first_name[:128]), payload, counted))

    async def finish(self, update_id: int) -> None:
        """The update's handling ran to the end: after a restart it counts as a duplicate.

        Only for updates this process admitted: a duplicate it turned away may still be in other hands."""
        if update_id in self._in_hand:
            self._in_hand.discard(update_id)
            await self._finished(update_id)

    async def _finish_updates(self, update_ids: list[int]) -> list[None]:
        table = ProcessedUpdateRow.__table__
        async with self._database.engine.begin() as connection:
            await connection.execute(update(table).where(table.c.update_id.in_(set(update_ids)))
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
            await session.execute(self._database.insert(table).values(id=self.instance, seen_at=now)
                                  .on_conflict_do_update(index_elements=[table.c.id], set_={"seen_at": now}))

    async def _take_in(self, items: list[Intake]) -> list[Admission | None]:
        # A connection, not an ORM session, and plain rows: this runs for every message.
        async with self._database.engine.begin() as connection:
            seen = await self._record_updates(connection, [(u, c, t, p, n) for u, c, t, _, p, n in items])
            keys = [item[3] for item, count in zip(items, seen) if item[3] is not None and count is not None]
            citizens = await known_citizens(connection, keys) if keys else {}
            tickets = await open_tickets_in(connection, [c.id for c in citizens.values()])
        self._in_hand.update(item[0] for item, count in zip(items, seen) if count is not None)
        admissions: list[Admission | None] = []
        for (_, _, _, key, _, _), count in zip(items, seen):
            if count is None:
                admissions.append(None)
            elif key in citizens:
                admissions.append(Admission(count, citizens[key], list(tickets.get(citizens[key].id, []))))
            else:  # no citizen asked for, or one to create or change: left to citizens.get() when a handler needs it
                admissions.append(Admission(count, None, []))
        return admissions

    async def _record_updates(self, connection, updates: list[tuple[int, int | None, float | None, str | None, bool]]
                              ) -> list[int | None]:
        table = ProcessedUpdateRow.__table__
        unique = {u: (c, p, n) for u, c, _, p, n in updates[::-1]}  # update id -> (chat, payload, counted) of its first call
        now = utcnow()
        # One statement for the batch, compiled once (executemany: "insertmanyvalues" keeps RETURNING).
        recorded = set(await connection.scalars(
            self._database.insert(table).on_conflict_do_nothing(index_elements=[table.c.update_id])
            .returning(table.c.update_id),
            [{"update_id": u, "chat_id": c, "created_at": now, "owner": self.instance, "finished": False, "payload": p,
              "counted": n} for u, (c, p, n) in unique.items()]))
        for update_id, after in {u: a for u, _, a, _, _ in updates if a is not None and u not in recorded}.items():
            taken = await connection.execute(
                update(table).where(table.c.update_id == update_id, table.c.finished.is_(False),
                                    self._others_silent_for(table.c.owner, after, now))
                .values(owner=self.instance))
            if taken.rowcount == 1:
                recorded.add(update_id)
        chats = {chat for update_id, (chat, _, _) in unique.items() if update_id in recorded and chat is not None}
        counts: dict[int, int] = {}
        if chats:
            counts = dict((await connection.execute(
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

    async def purge(self, older_than: dt.datetime) -> None:
        """Forget recorded updates, and instances silent, from before that moment."""
        async with self._sessions.begin() as session:
            await session.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.created_at < older_than))
            await session.execute(delete(InstanceRow).where(InstanceRow.seen_at < older_than))
