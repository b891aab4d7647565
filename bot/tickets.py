"""The librarian queue, the question log, feedback and drafts on SQLAlchemy 2 (async).

Its tables, database and group commit are in bot.storage, its plain types in bot.domain. Everything
needed to route a reply is stored (which group message belongs to which ticket, what is still to be
delivered), so a restart loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import (FORGOTTEN, OPEN_STATUSES, Admission, Citizen, Draft, TakeResult, Ticket,  # noqa: F401
                        TicketMessage, utcnow)
from bot.storage.database import (INITIAL_REVISION, Database, StoreError, alembic_config,  # noqa: F401
                                  default_database_url)
from bot.storage.group_commit import Batched as _Batched
from bot.storage.schema import (Base, CitizenRow, DraftRow, FeedbackRow, GroupMessageRow, InstanceRow,  # noqa: F401
                                ProcessedUpdateRow, QuestionRow, TicketMessageRow, TicketRow)
from bot.storage.schema import as_citizen as _citizen, as_message as _message, as_ticket as _ticket

FLOOD_WINDOW = dt.timedelta(seconds=60)  # flood control counts a citizen's messages over this time
LEASE_SECONDS = 60.0  # how long an instance may take to deliver what it claimed before another retries
CitizenKey = tuple[str, str, str, str]  # channel, external id, language on first contact, first name


class TicketStore:
    """Citizens, tickets, their messages, feedback, drafts and the question log.

    Each method owns its session and transaction. What every message needs is batched (see _Batched):
    intake() (the update id, the flood count, the citizen and their open tickets in one transaction), the
    question log and finish(); so are citizen() and open_tickets_of() when called on their own.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._database = Database(engine)
        self._sessions = self._database.sessions
        self.instance = uuid.uuid4().hex[:16]  # this process, as the owner of the updates it handles
        self._in_hand: set[int] = set()  # update ids admitted here and not finished yet
        self._intake = _Batched(self._take_in)
        self._finished = _Batched(self._finish_updates)
        self._citizens = _Batched(self._find_citizens)
        self._open_tickets = _Batched(self._open_tickets_of_many)
        self._questions = _Batched(self._log_questions)

    def _insert(self, table):
        """INSERT with ON CONFLICT support, in this database's dialect."""
        return self._database.insert(table)

    @classmethod
    def from_url(cls, url: str) -> "TicketStore":
        return cls(Database.from_url(url).engine)

    async def create_schema(self) -> None:
        await self._database.create_schema()

    async def upgrade(self) -> None:
        await self._database.upgrade()

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
