"""Per-citizen flood control: a sliding window of message times, kept in this process.

With several instances each counts what it sees; a flood spread over instances is still slowed by
each of them (a shared counter would need the database on every message).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

FLOOD_MESSAGES = 10  # at most this many messages ...
FLOOD_WINDOW = 60.0  # ... per this many seconds


class FloodGuard:
    """`check(key)` says whether to handle a message: "ok", "warn" (the first one over the limit) or "drop"."""

    def __init__(self, limit: int = FLOOD_MESSAGES, window: float = FLOOD_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, key: int) -> str:
        now = self.clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.pop(key, None)
            if len(self._seen) > 10_000:
                self._forget_idle(now)
            return "ok"
        if key in self._warned and now - self._warned[key] <= self.window:
            return "drop"
        self._warned[key] = now
        return "warn"

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, times in self._seen.items() if not times or now - times[-1] > self.window]:
            self._seen.pop(key, None)
            self._warned.pop(key, None)
