"""The ticket store behaves the same on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import event, text

from bot.tickets import TicketStore, _Batched, utcnow


async def test_ticket_life_cycle(any_store: TicketStore) -> None:
    citizen = await any_store.citizen("telegram", "501", first_name="Айгуль")
    first = await any_store.open_ticket(citizen.id, "где взять справку", "ru", candidates=[{"id": "x", "score": 0.4}])
    second = await any_store.open_ticket(citizen.id, "ещё вопрос", "kk", kind="stuck", entry_id="eds-obtain", step=2)
    assert second.id > first.id and [t.id for t in await any_store.open_tickets()] == [first.id, second.id]
    assert (await any_store.ticket(second.id)).step == 2

    assert [t.id for t in await any_store.cards_to_post()] == [first.id, second.id]
    await any_store.set_card(first.id, 700)
    assert (await any_store.ticket_for_group_message(700)).id == first.id

    taken = await any_store.take(first.id, 11, "Гульнар")
    assert taken.taken and taken.ticket.taken_by == "Гульнар"
    again = await any_store.take(first.id, 12, "Ержан")
    assert not again.taken and again.ticket.taken_by == "Гульнар"

    answer = await any_store.add_message(first.id, "librarian", "Ответ", author="Гульнар", group_message_id=701)
    assert [m.id for m in await any_store.pending_messages()] == [answer.id]
    await any_store.retry_later(answer.id, 60)
    assert await any_store.pending_messages() == []
    assert [m.id for m in await any_store.pending_messages(utcnow() + dt.timedelta(seconds=61))] == [answer.id]
    await any_store.mark_delivered(answer.id)
    assert (await any_store.ticket_for_group_message(701)).id == first.id
    assert (await any_store.ticket(first.id)).first_reply_at is not None

    closed = await any_store.close_ticket(first.id, "Гульнар")
    assert closed.status == "closed" and closed.closed_by == "Гульнар"
    assert await any_store.close_ticket(first.id, "Гульнар") is None
    assert await any_store.rate(first.id, citizen.id, 5)
    assert [t.id for t in await any_store.notices_to_send()] == [first.id]

    draft = await any_store.add_draft(first.id, "Гульнар")
    assert draft.answer == "Ответ" and len(await any_store.drafts()) == 1


async def test_take_is_atomic_under_concurrency(any_store: TicketStore) -> None:
    citizen = await any_store.citizen("telegram", "502")
    tickets = [await any_store.open_ticket(citizen.id, f"вопрос {n}", "ru") for n in range(5)]
    results = await asyncio.gather(*(
        any_store.take(ticket.id, librarian, f"lib{librarian}") for ticket in tickets for librarian in range(8)
    ))
    winners = {}
    for result in results:
        if result.taken:
            assert result.ticket.id not in winners, "two librarians took one ticket"
            winners[result.ticket.id] = result.ticket.taken_by
    assert sorted(winners) == [t.id for t in tickets]
    for ticket in await any_store.open_tickets():
        assert ticket.taken_by == winners[ticket.id]


async def test_blocked_citizen_and_forget(any_store: TicketStore) -> None:
    citizen = await any_store.citizen("telegram", "503", first_name="Болат")
    ticket = await any_store.open_ticket(citizen.id, "вопрос", "ru")
    await any_store.add_message(ticket.id, "librarian", "ответ")
    await any_store.log_question(citizen.id, "вопрос", "ru", "escalate", None, 0.1)
    assert [t.id for t in await any_store.mark_blocked(citizen.id)] == [ticket.id]
    assert await any_store.pending_messages() == []
    await any_store.citizen("telegram", "503")  # writes again: unblocked, the answer is due again
    assert len(await any_store.pending_messages()) == 1

    assert await any_store.forget(citizen.id) == 1
    assert await any_store.count_questions() == 0
    assert await any_store.messages(ticket.id) == []
    assert (await any_store.ticket(ticket.id)).status == "withdrawn"


async def test_stats_rows_and_purge(any_store: TicketStore) -> None:
    citizen = await any_store.citizen("telegram", "504")
    for decision in ("answer", "answer", "clarify", "escalate"):
        await any_store.log_question(citizen.id, f"q {decision}", "ru", decision, None, 0.5)
    await any_store.add_feedback(citizen.id, "eds-obtain", True)
    raw = await any_store.stats_rows(utcnow() - dt.timedelta(days=1))
    assert raw["decisions"] == {"answer": 2, "clarify": 1, "escalate": 1}
    assert raw["feedback"] == {True: 1}
    assert sorted(raw["unmatched"]) == ["q clarify", "q escalate"]
    assert await any_store.purge_questions(utcnow() + dt.timedelta(seconds=1)) == 4
    assert await any_store.count_questions() == 0


async def test_two_instances_never_deliver_the_same_thing_twice(any_store: TicketStore) -> None:
    other = TicketStore.from_url(any_store.url)  # a second bot instance on the same database
    try:
        citizen = await any_store.citizen("telegram", "505")
        ticket = await any_store.open_ticket(citizen.id, "вопрос", "ru")
        messages = [await any_store.add_message(ticket.id, "librarian", f"ответ {n}") for n in range(10)]
        claims = await asyncio.gather(*(store.claim_message(m.id) for m in messages for store in (any_store, other)))
        assert sum(claims) == len(messages)  # each message claimed by exactly one instance
        assert await any_store.pending_messages() == []  # claimed messages are not due for a while

        cards = await asyncio.gather(any_store.claim_card(ticket.id), other.claim_card(ticket.id))
        assert sorted(cards) == [False, True]
        await any_store.release_card(ticket.id)
        assert await other.claim_card(ticket.id)

        await any_store.close_ticket(ticket.id, "Гульнар")
        notices = await asyncio.gather(any_store.claim_notice(ticket.id), other.claim_notice(ticket.id))
        assert sorted(notices, key=str) == ["closed", None] or sorted(notices, key=str) == [None, "closed"]
        assert notices.count("closed") == 1
    finally:
        await other.dispose()


async def test_a_lease_ends_and_another_instance_delivers(any_store: TicketStore) -> None:
    citizen = await any_store.citizen("telegram", "506")
    ticket = await any_store.open_ticket(citizen.id, "вопрос", "ru")
    message = await any_store.add_message(ticket.id, "librarian", "ответ")
    assert await any_store.claim_message(message.id, lease=0.2)  # this instance dies before delivering
    assert not await any_store.claim_message(message.id)
    await asyncio.sleep(0.3)
    assert [m.id for m in await any_store.pending_messages()] == [message.id]
    assert await any_store.claim_message(message.id)


class StatementCounter:
    """Counts the SQL statements that reach the database, by their first words."""

    def __init__(self, store: TicketStore) -> None:
        self.statements: list[str] = []
        event.listen(store._engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement: str, *args) -> None:
        self.statements.append(" ".join(statement.split()))

    def count(self, prefix: str) -> int:
        return sum(s.startswith(prefix) for s in self.statements)


async def test_calls_made_together_share_one_transaction(any_store: TicketStore) -> None:
    """Forty citizens writing at once: their update ids, profiles, open tickets and question-log rows go to
    the database in a few statements, and each caller still gets its own, correct result."""
    ids = [str(9000 + n) for n in range(40)]
    for external_id in ids[:20]:  # half of them are known already
        await any_store.citizen("telegram", external_id, first_name="Житель")
    with_ticket = await any_store.citizen("telegram", ids[0], first_name="Житель")
    ticket = await any_store.open_ticket(with_ticket.id, "вопрос", "ru")
    counter = StatementCounter(any_store)

    fresh = await asyncio.gather(*(any_store.admit(500 + n, 9000 + n) for n in range(40)))
    citizens = await asyncio.gather(*(any_store.citizen("telegram", i, first_name="Житель") for i in ids[:20]))
    tickets = await asyncio.gather(*(any_store.open_tickets_of(c.id) for c in citizens))
    await asyncio.gather(*(any_store.log_question(c.id, "как получить эцп", "ru", "answer", "eds-obtain", 0.9)
                           for c in citizens))

    assert fresh == [1] * 40  # each chat's first message this minute
    assert [c.external_id for c in citizens] == ids[:20] and citizens[0].id == with_ticket.id
    assert [[t.id for t in ts] for ts in tickets] == [[ticket.id]] + [[]] * 19
    assert await any_store.count_questions() == 20
    assert counter.count("INSERT INTO processed_updates") == 1
    assert counter.count("SELECT citizens") == 1
    assert counter.count("SELECT tickets") == 1
    assert counter.count("INSERT INTO questions") == 1


async def test_a_repeated_update_id_is_new_only_once(any_store: TicketStore) -> None:
    assert await any_store.admit(77) == 0  # no chat: nothing to count
    results = await asyncio.gather(any_store.admit(77), any_store.admit(78, 5), any_store.admit(78, 5))
    assert results == [None, 1, None]


async def test_a_chats_messages_are_counted_over_a_minute_and_over_instances(any_store: TicketStore) -> None:
    other = TicketStore.from_url(any_store.url)  # a second instance on the same database
    try:
        alone = [await any_store.admit(1, 501), await other.admit(2, 501), await any_store.admit(3, 502)]
        together = await asyncio.gather(any_store.admit(4, 501), any_store.admit(5, 501), any_store.admit(6, 502))
        assert alone == [1, 2, 1] and list(together) == [3, 4, 2]
        async with any_store._engine.begin() as connection:  # a minute later
            await connection.execute(text("UPDATE processed_updates SET created_at = :t"),
                                     {"t": utcnow() - dt.timedelta(seconds=61)})
        assert await other.admit(7, 501) == 1
    finally:
        await other.dispose()


async def test_new_and_changed_citizens_in_a_batch(any_store: TicketStore) -> None:
    known = await any_store.citizen("telegram", "1", first_name="Старое")
    await any_store.mark_blocked(known.id)
    renamed, new, again = await asyncio.gather(any_store.citizen("telegram", "1", first_name="Новое"),
                                               any_store.citizen("telegram", "2", language="kk", first_name="Әсел"),
                                               any_store.citizen("telegram", "1"))
    assert renamed.id == known.id == again.id and renamed.first_name == "Новое" and not renamed.blocked
    assert new.id != known.id and new.language == "kk"


async def test_a_failing_batch_fails_every_caller_and_the_next_batch_works() -> None:
    calls: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return [n * 10 for n in items]

    batched = _Batched(run)
    results = await asyncio.gather(*(batched(n) for n in range(5)), return_exceptions=True)
    assert calls == [[0, 1, 2, 3, 4]] and all(isinstance(r, ConnectionError) for r in results)
    assert await asyncio.gather(batched(7), batched(8)) == [70, 80]


async def test_an_unfinished_update_of_another_process_is_taken_over_once(any_store: TicketStore) -> None:
    killed = TicketStore.from_url(any_store.url)  # the process that was killed mid-way
    try:
        assert await killed.admit(10, 501) == 1 and await killed.admit(11, 501) == 2
        await killed.finish(11)
    finally:
        await killed.dispose()
    assert await any_store.admit(10, 501) is None  # webhook mode: never taken over (the default)
    assert await any_store.admit(10, 501, take_over_after=0) is not None  # polling: handled here after all
    assert await any_store.admit(10, 501, take_over_after=0) is None  # ... once
    assert await any_store.admit(11, 501, take_over_after=0) is None  # finished: a plain duplicate
    await any_store.finish(10)
    other = TicketStore.from_url(any_store.url)
    try:
        assert await other.admit(10, 501, take_over_after=0) is None
    finally:
        await other.dispose()


async def test_intake_reads_the_citizen_and_open_tickets_with_the_update(any_store: TicketStore) -> None:
    known = await any_store.citizen("telegram", "501", first_name="Айгуль")
    ticket = await any_store.open_ticket(known.id, "вопрос", "ru")
    counter = StatementCounter(any_store)
    first, stranger, renamed = await asyncio.gather(
        any_store.intake(1, 501, "telegram", "501", first_name="Айгуль"),
        any_store.intake(2, 502, "telegram", "502", first_name="Новый"),
        any_store.intake(3, 501, "telegram", "501", first_name="Айгерим"))
    assert first.seen == 1 and first.citizen == known and [t.id for t in first.open_tickets] == [ticket.id]
    assert stranger.seen == 1 and stranger.citizen is None  # created by citizen() when a handler needs it
    assert renamed.seen == 2 and renamed.citizen is None  # the new name is written by citizen()
    assert len([s for s in counter.statements if not s.startswith(("BEGIN", "COMMIT"))]) == 4  # one transaction
    assert await any_store.intake(1, 501, "telegram", "501") is None  # a duplicate
    assert await any_store.citizen("telegram", "502") != known


async def test_unfinished_updates_are_given_back_to_the_next_process_and_forgotten_on_request(any_store: TicketStore) -> None:
    killed = TicketStore.from_url(any_store.url)
    try:
        await killed.admit(20, 501, payload='{"update_id": 20}')
        await killed.admit(21, 501, payload='{"update_id": 21}')
        await killed.admit(22, 502, payload='{"update_id": 22}')
        await killed.finish(21)
        assert await killed.unfinished() == []  # its own updates are still in its hands
    finally:
        await killed.dispose()
    assert await any_store.unfinished() == [(20, '{"update_id": 20}'), (22, '{"update_id": 22}')]
    assert await any_store.admit(20, 501, take_over_after=0) is not None
    await any_store.finish(20)
    citizen = await any_store.citizen("telegram", "502")
    await any_store.forget(citizen.id)  # what they wrote and the bot has not handled yet goes too
    assert await any_store.unfinished() == []


async def test_a_turned_away_duplicate_does_not_finish_the_original(any_store: TicketStore) -> None:
    """The same update reached two instances: the one that turned it away must not mark it finished while
    the other is still handling it."""
    other = TicketStore.from_url(any_store.url)
    try:
        assert await any_store.admit(30, 501, payload="{}") == 1
        assert await other.admit(30, 501, payload="{}") is None
        await other.finish(30)
        assert [u for u, _ in await other.unfinished()] == [30]
        await any_store.finish(30)
        assert await other.unfinished() == []
    finally:
        await other.dispose()


async def test_webhook_instances_take_over_only_from_a_silent_instance(any_store: TicketStore) -> None:
    """Webhook instances run side by side: one takes over another's unfinished update only after that one
    stopped writing heartbeats for the given time."""
    gone = TicketStore.from_url(any_store.url)
    try:
        await gone.heartbeat()
        assert await gone.admit(50, 501, payload='{"update_id": 50}') == 1
    finally:
        await gone.dispose()
    await any_store.heartbeat()
    assert await any_store.unfinished(silent_for=60) == []  # still counted as alive
    assert await any_store.admit(50, 501, take_over_after=60) is None
    async with any_store._engine.begin() as connection:  # two minutes without a heartbeat
        await connection.execute(text("UPDATE instances SET seen_at = :t WHERE id = :i"),
                                 {"t": utcnow() - dt.timedelta(seconds=120), "i": gone.instance})
    assert await any_store.unfinished(silent_for=60) == [(50, '{"update_id": 50}')]
    assert await any_store.admit(50, 501, take_over_after=60) is not None
    assert await any_store.unfinished(silent_for=60) == []  # now in this instance's hands


async def test_old_updates_and_silent_instances_are_purged(any_store: TicketStore) -> None:
    await any_store.heartbeat()
    await any_store.admit(60, 501)
    async with any_store._engine.begin() as connection:
        await connection.execute(text("INSERT INTO instances (id, seen_at) VALUES ('long-gone', :t)"),
                                 {"t": utcnow() - dt.timedelta(days=3)})
        await connection.execute(text("INSERT INTO processed_updates (update_id, created_at, finished) VALUES (59, :t, :f)"),
                                 {"t": utcnow() - dt.timedelta(days=3), "f": True})
    await any_store.purge_updates(utcnow() - dt.timedelta(days=2))
    async with any_store._engine.begin() as connection:
        instances = (await connection.execute(text("SELECT id FROM instances"))).all()
        updates = (await connection.execute(text("SELECT update_id FROM processed_updates"))).all()
    assert [i for (i,) in instances] == [any_store.instance] and [u for (u,) in updates] == [60]
