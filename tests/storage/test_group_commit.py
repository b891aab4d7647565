"""bot.storage.group_commit: calls made together share one transaction, and each caller gets its own result."""

from __future__ import annotations

import asyncio

from bot.domain import Channel, Action
from bot.storage import Storage
from bot.storage.group_commit import Batched

from .helpers import StatementCounter


async def test_calls_made_together_share_one_transaction(any_store: Storage) -> None:
    """Forty citizens writing at once: their update ids, profiles, open tickets and question-log rows go to
    the database in a few statements, and each caller still gets its own, correct result."""
    ids = [str(9000 + n) for n in range(40)]
    for external_id in ids[:20]:  # half of them are known already
        await any_store.citizens.get(Channel.TELEGRAM, external_id, first_name="Житель")
    with_ticket = await any_store.citizens.get(Channel.TELEGRAM, ids[0], first_name="Житель")
    ticket = await any_store.tickets.open(with_ticket.id, "вопрос", "ru")
    counter = StatementCounter(any_store)

    fresh = await asyncio.gather(*(any_store.updates.admit(500 + n, 9000 + n) for n in range(40)))
    citizens = await asyncio.gather(*(any_store.citizens.get(Channel.TELEGRAM, i, first_name="Житель") for i in ids[:20]))
    tickets = await asyncio.gather(*(any_store.tickets.queue_of(c.id) for c in citizens))
    await asyncio.gather(*(any_store.insights.log_question(c.id, "как получить эцп", "ru", Action.ANSWER, "eds-obtain", 0.9)
                           for c in citizens))

    assert fresh == [1] * 40  # each chat's first message this minute
    assert [c.external_id for c in citizens] == ids[:20] and citizens[0].id == with_ticket.id
    assert [[t.id for t in ts] for ts in tickets] == [[ticket.id]] + [[]] * 19
    assert await any_store.insights.count_questions() == 20
    assert counter.count("INSERT INTO processed_updates") == 1
    assert counter.count("SELECT citizens") == 1
    assert counter.count("SELECT tickets") == 1
    assert counter.count("INSERT INTO questions") == 1


async def test_a_failing_batch_fails_every_caller_and_the_next_batch_works() -> None:
    calls: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return [n * 10 for n in items]

    batched = Batched(run)
    results = await asyncio.gather(*(batched(n) for n in range(5)), return_exceptions=True)
    assert calls == [[0, 1, 2, 3, 4]] and all(isinstance(r, ConnectionError) for r in results)
    assert await asyncio.gather(batched(7), batched(8)) == [70, 80]
