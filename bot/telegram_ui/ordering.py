"""Updates from different chats are handled at the same time; one chat's updates strictly in order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerChatOrder(BaseUpdateProcessor):
    """While one citizen's question waits for the database or the network, other citizens are served.

    The same chat never has two updates in flight: a citizen's second message is handled after the first
    (so a follow-up cannot overtake the question that opened the ticket). python-telegram-bot starts
    the updates in the order they arrived and its semaphore is fair, and so is each chat's lock here.
    """

    def __init__(self, max_concurrent_updates: int,
                 finished: Callable[[Update], Awaitable[None]] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # chat id -> (its lock, updates waiting)
        self._finished = finished  # told when an update's handlers have run (faults included)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._in_order(update, coroutine)
        if self._finished is not None and isinstance(update, Update):
            try:
                await self._finished(update)
            except Exception:  # noqa: BLE001 - at worst the update is handled again after a restart
                log.warning("could not mark update %s as finished", update.update_id, exc_info=True)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:  # nothing to keep in order with (e.g. an inline query)
            await coroutine
            return
        lock, waiting = self._chats.get(chat.id, (None, 0))
        lock = lock or asyncio.Lock()
        self._chats[chat.id] = (lock, waiting + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, waiting = self._chats[chat.id]
            if waiting == 1:
                del self._chats[chat.id]
            else:
                self._chats[chat.id] = (lock, waiting - 1)

    @property
    def busy_chats(self) -> int:
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
