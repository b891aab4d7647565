"""Group commit for what every message needs from the database (its update, its citizen, their open tickets,
the question log): one transaction serves many concurrent callers."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
BATCH_LIMIT = 200  # calls served by one transaction at most


class Batched(Generic[Item, Result]):
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
